// pm2 process file for the celstate-sync daemon.
//   pm2 start ecosystem.config.cjs && pm2 save
//   pm2 logs celstate-sync
// Put CONVEX_URL and CELSTATE_SYNC_TOKEN in .env.local next to this file (read at start),
// or in the environment pm2 is started with; never in this file.
module.exports = {
  apps: [
    {
      name: "celstate-sync",
      script: "bin/celstate-sync.js",
      args: "watch --health-port 9464",
      cwd: __dirname,
      interpreter: "node",
      instances: 1, // one daemon per jobs folder: a second one refuses to start (instance lock)
      exec_mode: "fork",
      autorestart: true,
      // Exit 2 is a configuration problem: do not restart in a loop.
      stop_exit_codes: [0, 2],
      kill_timeout: 30000, // SIGTERM drains first; SIGKILL only after this
      restart_delay: 2000,
      env: {
        NODE_ENV: "production",
        CELSTATE_SYNC_JOBS_DIR: "/srv/celstate/jobs",
      },
    },
  ],
};
