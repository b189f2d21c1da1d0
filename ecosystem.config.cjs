// pm2 process file for the celstate-sync daemon, with the same stop and restart rules as the
// systemd unit (deploy/celstate-sync@.service); a test keeps the two in step.
//   pm2 start ecosystem.config.cjs && pm2 save
//   pm2 logs celstate-sync
// Runs the installed `celstate-sync` (npm install -g; the same path as the unit's ExecStart=: if
// `command -v celstate-sync` says otherwise, change both). Put CONVEX_URL and
// CELSTATE_SYNC_TOKEN in .env.local next to this file (read at start, as the working folder is
// this file's), or in the environment pm2 is started with; never in this file.
module.exports = {
  apps: [
    {
      name: "celstate-sync",
      script: "/usr/local/bin/celstate-sync",
      args: "watch --health-port 9464",
      cwd: __dirname,
      interpreter: "node",
      instances: 1, // one daemon per jobs folder: a second one refuses to start (instance lock)
      exec_mode: "fork",
      autorestart: true,
      // Exit 2 is a configuration problem (systemd: RestartPreventExitStatus=2): no restart loop.
      stop_exit_codes: [0, 2],
      // SIGTERM drains in-flight work first, SIGKILL only after this (systemd: TimeoutStopSec=30).
      kill_signal: "SIGTERM",
      kill_timeout: 30000,
      restart_delay: 2000, // systemd: RestartSec=2
      // A daemon that dies within a minute of starting, 5 times in a row, is left stopped
      // (systemd: StartLimitBurst=5 within StartLimitIntervalSec=300).
      min_uptime: 60000,
      max_restarts: 5,
      env: {
        NODE_ENV: "production",
        CELSTATE_SYNC_JOBS_DIR: "/srv/celstate/jobs", // the jobs folder, named here only
      },
    },
  ],
};
