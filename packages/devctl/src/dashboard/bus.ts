// PM2's event bus ($PM2_HOME/pub.sock, an axon pub socket framed with AMP like rpc.sock): the daemon
// publishes `process:event` (online, exit, stop, restart, delete...) the moment a process changes,
// so the dashboard redraws a state change at once instead of polling for it. Read-only: a
// subscriber sends nothing, and the daemon does nothing more for it than write to one more socket.
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { decodeMessages, pm2Home } from '../pm2/rpc';

export interface ProcessEvent {
  /** online, exit, stop, restart, delete, ... */
  event: string;
  name: string;
  namespace: string | undefined;
}

export interface BusSubscription {
  /** Resolves true once subscribed, false when no daemon listens. */
  connected: Promise<boolean>;
  close(): void;
}

/**
 * Calls `onMessage` with each message the daemon publishes (topic, data), until `close()`. `onClose`
 * says the socket ended (no daemon, or the daemon went away).
 */
export function subscribeBus(
  onMessage: (topic: string, data: unknown) => void,
  onClose: () => void,
  home = pm2Home(),
): BusSubscription {
  let socket: Socket | undefined = connect(join(home, 'pub.sock'));
  let buffered: Buffer = Buffer.alloc(0);
  const connected = new Promise<boolean>((resolve) => {
    socket?.once('connect', () => resolve(true));
    socket?.once('close', () => resolve(false));
  });
  socket.on('data', (chunk: Buffer) => {
    const { messages, rest } = decodeMessages(Buffer.concat([buffered, chunk]));
    buffered = rest;
    for (const [topic, data] of messages) if (typeof topic === 'string') onMessage(topic, data);
  });
  socket.on('error', () => {
    // ENOENT/ECONNREFUSED: no daemon yet; 'close' follows and the caller keeps its interval.
  });
  socket.on('close', () => {
    if (socket) onClose();
    socket = undefined;
  });
  return {
    connected,
    close() {
      const open = socket;
      socket = undefined;
      open?.destroy();
    },
  };
}

/**
 * Calls `onEvent` for each process event of the daemon, until `close()`. `onClose` says the socket
 * ended (no daemon, or the daemon went away): the caller falls back to its interval.
 */
export function subscribeProcessEvents(
  onEvent: (event: ProcessEvent) => void,
  onClose: () => void,
  home = pm2Home(),
): BusSubscription {
  return subscribeBus(
    (topic, data) => {
      if (topic !== 'process:event' || data === null || typeof data !== 'object') return;
      const { event, process: info } = data as {
        event?: string;
        process?: { name?: string; namespace?: string; pm2_env?: { namespace?: string } };
      };
      if (typeof event !== 'string' || typeof info?.name !== 'string') return;
      onEvent({ event, name: info.name, namespace: info.namespace ?? info.pm2_env?.namespace });
    },
    onClose,
    home,
  );
}
