/**
 * A job's component as Convex stores it: its JSON text, exactly as job.json holds it. Its
 * `assets` object maps filenames to placeholders, and filenames are user input (any unicode, a
 * leading `$`), which Convex field names cannot be; Convex also keeps object fields sorted,
 * so no stored object could give job.json's key order back. Text keeps every byte.
 *
 * The functions read and edit it without re-serialising anything (`topLevelMembers`): the
 * filenames the component lists, and the same text with a URL in place of each placeholder.
 * The text was parsed by the daemon before it was sent, so it is always one JSON object.
 */
import { joinTopLevel, lastMember, splitTopLevel, type TopLevelObject } from "./topLevelMembers.js";

function objectOrNull(text: string): TopLevelObject | null {
  if (!text.trimStart().startsWith("{")) return null;
  try {
    return splitTopLevel(text);
  } catch {
    return null;
  }
}

function assetsOf(componentText: string): { component: TopLevelObject; assets: TopLevelObject } | null {
  const component = objectOrNull(componentText);
  const member = component && lastMember(component, "assets");
  const assets = member ? objectOrNull(member.valueText) : null;
  return component && assets ? { component, assets } : null;
}

/** Filenames `component.assets` lists, in order, each once. */
export function listedFilenames(componentText: string | null | undefined): string[] {
  if (componentText == null) return [];
  const found = assetsOf(componentText);
  return found === null ? [] : [...new Set(found.assets.members.map((m) => m.key))];
}

/** The component text with each listed filename's value replaced by its URL (`null` where there is none). */
export function withAssetUrls(componentText: string, urlOf: (filename: string) => string | null): string {
  const found = assetsOf(componentText);
  if (found === null) return componentText;
  const { component, assets } = found;
  const filled: TopLevelObject = {
    ...assets,
    members: assets.members.map((m) => {
      const url = urlOf(m.key);
      return { ...m, valueText: url === null ? "null" : JSON.stringify(url) };
    }),
  };
  const assetsText = joinTopLevel(filled);
  const at = component.members.lastIndexOf(lastMember(component, "assets")!);
  return joinTopLevel({ ...component, members: component.members.map((m, n) => (n === at ? { ...m, valueText: assetsText } : m)) });
}
