/** "1 job", "2 jobs": a count with the word in the form it takes. */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
