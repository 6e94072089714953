import { cli } from './cli';

// A closed pipe (`devctl logs | head`) is a normal way for output to end, not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// Exit as soon as the command is done: PM2's client (used only to launch a daemon) keeps retrying
// a socket in the background for a while. Writes to pipes and files are synchronous on Linux, so
// nothing printed is lost.
void cli().then((code) => process.exit(code));
