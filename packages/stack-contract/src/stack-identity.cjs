// Which stack a checkout is: its PM2 namespace and its block of ports. Every checkout of the
// repository (a clone, a git worktree) runs its own stack at the same time as the others, so each
// needs ports and a namespace no other checkout on the machine uses. CommonJS and synchronous on
// purpose: ecosystem.config.js requires it (plain `pm2 start ecosystem.config.js` gets the same
// answer as devctl), and PM2 loads that file with a synchronous `require`.
//
// The registry `${DEVSTACK_STATE_DIR:-${XDG_STATE_HOME:-~/.local/state}/devctl}/stacks.json` is the
// authority: one entry per checkout (its real path, namespace, block), written under a lock so two
// checkouts claiming at the same moment never get the same block. `<root>/.devctl/stack.json`
// (git-ignored) records the checkout's identity for people and tools, and keeps its block if the
// registry is lost. It never overrides the registry: a test run with a private registry rewrites
// it, and a live stack must not follow it to another block.
//
// A block is the documented ports shifted by 100 x its number: block 0 is 3000-3006 and 5173 with
// the project's own namespace (a single checkout changes nothing), block 1 is 3100-3106 and 5273,
// and so on. One registry serves every project devctl runs on the machine: ports are the machine's.
// Nothing here names the project (`devctl init` copies this package unchanged into new projects).
'use strict';

// Node's own modules through process.getBuiltinModule (Node >= 20.16), not `require`: the services
// and devctl bundle this file into ES modules (esbuild), where a `require` call throws.
const builtin = (name) => process.getBuiltinModule(name);
const { createHash, randomBytes } = builtin('node:crypto');
const fs = builtin('node:fs');
const { homedir, hostname } = builtin('node:os');
const path = builtin('node:path');
const { spawnSync } = builtin('node:child_process');

const BLOCK_STEP = 100;
const MAX_BLOCKS = 300; // 3000 + 100 x 300 would pass 33000: far beyond any machine's need
/** Block 0's namespace when the ecosystem passes none (it passes the project's: `namespace`). */
const DEFAULT_NAMESPACE = 'default';
const DOCUMENTED_WEB_PORT = 5173;
const STATE_DIR_VARIABLE = 'DEVSTACK_STATE_DIR';
const IDENTITY_FILE = path.join('.devctl', 'stack.json');
/** Set by ecosystem.config.js in every app's env: the kit shifts its port and URL defaults by it. */
const PORT_OFFSET_VARIABLE = 'DEVSTACK_PORT_OFFSET';
/** Set by ecosystem.config.js in every app's env: the stack's namespace (data-service's schema). */
const NAMESPACE_VARIABLE = 'DEVSTACK_NAMESPACE';
/**
 * The lowest block a new checkout may get (default 0). Tests set it so that their stacks never land
 * on the documented ports a developer's own stack may use; a person can set it to keep low ports free.
 */
const FIRST_BLOCK_VARIABLE = 'DEVSTACK_FIRST_BLOCK';
const LOCK_TIMEOUT_MS = 30_000;

/** The folder of the registry and its lock. */
function stateDir(env = process.env) {
  if (env[STATE_DIR_VARIABLE]) return path.resolve(env[STATE_DIR_VARIABLE]);
  const base = env.XDG_STATE_HOME
    ? path.resolve(env.XDG_STATE_HOME)
    : path.join(homedir(), '.local', 'state');
  return path.join(base, 'devctl');
}

function registryPath(env = process.env) {
  return path.join(stateDir(env), 'stacks.json');
}

function realRoot(root) {
  try {
    return fs.realpathSync(root);
  } catch {
    return path.resolve(root);
  }
}

/**
 * The namespace of block `block` for the checkout at `root`: the project's own (`base`) for
 * block 0, else `<project>-<folder>-<hash4>` (the hash tells two folders of one name apart).
 */
function namespaceFor(root, block, base = DEFAULT_NAMESPACE) {
  if (block === 0) return base;
  const folder =
    path
      .basename(root)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 24) || 'checkout';
  const hash = createHash('sha256').update(root).digest('hex').slice(0, 4);
  return `${base}-${folder}-${hash}`;
}

/** The registry's entries (an unreadable or missing file is an empty registry). */
function readRegistry(env = process.env) {
  try {
    const parsed = JSON.parse(fs.readFileSync(registryPath(env), 'utf8'));
    return Array.isArray(parsed.stacks) ? parsed.stacks.filter(isEntry) : [];
  } catch {
    return [];
  }
}

function isEntry(value) {
  return (
    value &&
    typeof value.root === 'string' &&
    typeof value.namespace === 'string' &&
    Number.isInteger(value.block) &&
    value.block >= 0
  );
}

/** Written whole to a private file, then renamed: a reader never sees half a registry. */
function writeJsonAtomic(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(temporary, file);
}

function writeRegistry(stacks, env = process.env) {
  writeJsonAtomic(registryPath(env), { version: 1, stacks });
}

/** The ports a block holds: each documented port shifted, and the web port. */
function blockPorts(block, documentedPorts) {
  return documentedPorts.map((port) => port + BLOCK_STEP * block);
}

/**
 * The listening sockets now, port -> socket inodes, from /proc/net/tcp{,6} (Linux); undefined where
 * there is no /proc.
 */
function listeningSockets() {
  const sockets = new Map();
  let found = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    found = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // st 0A is LISTEN; local_address is HEXIP:HEXPORT; field 9 is the socket's inode.
      if (fields[3] !== '0A' || !fields[1]) continue;
      const port = Number.parseInt(fields[1].split(':').pop(), 16);
      sockets.set(port, [...(sockets.get(port) ?? []), fields[9]]);
    }
  }
  return found ? sockets : undefined;
}

/** The working folders of the processes holding these socket inodes (our own user's processes). */
function holderFolders(inodes) {
  const targets = new Set(inodes.map((inode) => `socket:[${inode}]`));
  const folders = [];
  let pids = [];
  try {
    pids = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return folders;
  }
  for (const pid of pids) {
    let fds;
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (!targets.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) continue;
        folders.push(fs.readlinkSync(`/proc/${pid}/cwd`));
        break;
      } catch {
        // closed meanwhile, or not ours to read
      }
    }
  }
  return folders;
}

/**
 * The ports of `ports` something listens on now, leaving out those held by a process of the checkout
 * at `root` itself: a stack started before the registry existed keeps its own block.
 */
function takenPorts(ports, root) {
  const sockets = listeningSockets();
  if (sockets) {
    const inside = (folder) => folder === root || folder.startsWith(`${root}${path.sep}`);
    return ports.filter((port) => {
      const inodes = sockets.get(port);
      if (!inodes) return false;
      const folders = holderFolders(inodes);
      return folders.length === 0 || !folders.every(inside);
    });
  }
  const script = `const net=require('node:net');const ports=${JSON.stringify(ports)};const taken=[];let left=ports.length;if(!left)console.log('[]');for(const p of ports){const s=net.createServer();s.once('error',()=>{taken.push(p);if(--left===0)console.log(JSON.stringify(taken))});s.listen(p,'127.0.0.1',()=>s.close(()=>{if(--left===0)console.log(JSON.stringify(taken))}))}`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 5000 });
  try {
    return JSON.parse(result.stdout.trim());
  } catch {
    return [];
  }
}

// -- the lock: an exclusive file naming its holder; a dead holder's lock is taken over at once --

function processStartTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function holderGone(holder) {
  if (!holder || !Number.isInteger(holder.pid) || holder.pid <= 0) return true;
  if (holder.host && holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return true;
  }
  const ticks = processStartTicks(holder.pid);
  return holder.startTicks !== undefined && ticks !== undefined && ticks !== holder.startTicks;
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function createExclusive(file, content) {
  try {
    fs.writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if (error.code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Runs `fn` holding the registry's lock. The lock is held for milliseconds (read, choose, write), so
 * a wait is short; it is said once on stderr, and bounded.
 */
function withRegistryLock(env, fn) {
  const dir = stateDir(env);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'stacks.lock');
  const holder = {
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    host: hostname(),
    command: process.argv.slice(1).join(' '),
    since: new Date().toISOString(),
  };
  const content = JSON.stringify(holder);
  const started = Date.now();
  let said = false;
  for (;;) {
    if (createExclusive(file, content)) break;
    let raw = '';
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // released meanwhile
    }
    let other;
    try {
      other = JSON.parse(raw);
    } catch {
      other = undefined; // being written: wait a poll
    }
    if (other && holderGone(other)) {
      // Only the waiter whose guard file is created removes it, and only if it is unchanged.
      const guard = `${file}.takeover`;
      if (createExclusive(guard, content)) {
        try {
          if (fs.readFileSync(file, 'utf8') === raw) fs.unlinkSync(file);
        } catch {
          // removed meanwhile
        } finally {
          fs.unlinkSync(guard);
        }
        continue;
      }
    }
    const waited = Date.now() - started;
    if (!said && other) {
      said = true;
      process.stderr.write(
        `waiting for the stack registry lock ${file}: held by pid ${other.pid} (${other.command})\n`,
      );
    }
    if (waited > LOCK_TIMEOUT_MS) {
      throw new Error(
        `the stack registry lock ${file} is still held by pid ${other?.pid ?? '?'} after ${Math.round(waited / 1000)} s; if that process is stuck, end it, or remove the file`,
      );
    }
    sleepSync(20);
  }
  try {
    return fn();
  } finally {
    try {
      if (fs.readFileSync(file, 'utf8') === content) fs.unlinkSync(file);
    } catch {
      // already removed
    }
  }
}

// -- the identity --

function readIdentityFile(root) {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(root, IDENTITY_FILE), 'utf8'));
    return isEntry(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The identity a registry entry gives, with the ports of this checkout's ecosystem. */
function identityOf(entry, documentedPorts, webPort, source) {
  const offset = BLOCK_STEP * entry.block;
  return {
    root: entry.root,
    namespace: entry.namespace,
    block: entry.block,
    offset,
    ports: blockPorts(entry.block, documentedPorts),
    web: webPort + offset,
    reason: entry.reason ?? '',
    source,
    claimedAt: entry.claimedAt,
    registry: undefined,
  };
}

/**
 * The first block whose ports are in no registry entry of another checkout that still exists, and
 * on which nothing listens; with the reason the lower blocks were passed over. The entry of a
 * deleted checkout (a removed worktree, a test's temporary copy) reserves nothing: what may still run
 * for it holds its ports, which the listening check sees; `devctl stacks prune` removes the entry.
 */
function chooseBlock(root, stacks, documentedPorts, preferred, firstBlock) {
  const others = stacks.filter((entry) => entry.root !== root && fs.existsSync(entry.root));
  const reserved = new Set();
  const ownerOf = new Map();
  for (const entry of others) {
    for (const port of blockPorts(entry.block, documentedPorts)) {
      reserved.add(port);
      ownerOf.set(port, entry);
    }
  }
  const passed = [];
  const order = preferred === undefined ? [] : [preferred];
  for (let block = firstBlock; block < MAX_BLOCKS; block++) if (block !== preferred) order.push(block);
  for (const block of order) {
    const ports = blockPorts(block, documentedPorts);
    const held = ports.find((port) => reserved.has(port));
    if (held !== undefined) {
      const owner = ownerOf.get(held);
      passed.push(`block ${block} belongs to ${owner.root}`);
      continue;
    }
    const taken = takenPorts(ports, root);
    if (taken.length > 0) {
      passed.push(`port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} of block ${block} in use`);
      continue;
    }
    return { block, passed };
  }
  throw new Error(`no free block of ports for ${root}: ${passed.slice(0, 3).join('; ')}; ...`);
}

/**
 * The stack of the checkout at `root`: its registry entry, or a block claimed now (and kept).
 * `options.ports`: the documented ports of the checkout's services (3000-3006 in this repository),
 * `options.web`: the documented frontend port (5173).
 */
function stackIdentity(root, options = {}) {
  const identity = claimIdentity(root, options);
  // The project's own namespace (block 0's): what the project is called outside this machine.
  identity.project = options.namespace ?? DEFAULT_NAMESPACE;
  return identity;
}

function claimIdentity(root, options) {
  const env = options.env ?? process.env;
  const real = realRoot(root);
  const documentedPorts = options.ports ?? [3000, 3001, 3002, 3003, 3004, 3005, 3006];
  const webPort = options.web ?? DOCUMENTED_WEB_PORT;
  const allPorts = [...documentedPorts, webPort];
  const registry = registryPath(env);

  const known = readRegistry(env).find((entry) => entry.root === real);
  if (known) {
    const identity = identityOf(known, documentedPorts, webPort, 'registry');
    identity.registry = registry;
    recordInCheckout(real, known, registry);
    return identity;
  }
  return withRegistryLock(env, () => {
    const stacks = readRegistry(env);
    const again = stacks.find((entry) => entry.root === real);
    if (again) {
      const identity = identityOf(again, documentedPorts, webPort, 'registry');
      identity.registry = registry;
      recordInCheckout(real, again, registry);
      return identity;
    }
    // The checkout's own record keeps its block when the registry was lost, if the block is free.
    const own = readIdentityFile(real);
    const firstBlock = Math.max(0, Number.parseInt(env[FIRST_BLOCK_VARIABLE] ?? '0', 10) || 0);
    const preferred =
      own && own.root === real && own.registry === registry && own.block >= firstBlock
        ? own.block
        : undefined;
    const { block, passed } = chooseBlock(real, stacks, allPorts, preferred, firstBlock);
    let reason;
    if (block === preferred && own) reason = own.reason || `kept from ${IDENTITY_FILE}`;
    else if (passed.length === 0 && block === 0) reason = 'the first free block: the documented ports';
    else if (passed.length === 0) reason = `the first block allowed by ${FIRST_BLOCK_VARIABLE}=${firstBlock}`;
    else reason = passed.join('; ');
    const entry = {
      root: real,
      namespace: namespaceFor(real, block, options.namespace ?? DEFAULT_NAMESPACE),
      block,
      reason,
      claimedAt: new Date().toISOString(),
    };
    writeRegistry([...stacks, entry], env);
    recordInCheckout(real, entry, registry);
    const identity = identityOf(entry, documentedPorts, webPort, 'claimed');
    identity.registry = registry;
    return identity;
  });
}

/** Writes `<root>/.devctl/stack.json` when it does not already say the same (never fatal). */
function recordInCheckout(root, entry, registry) {
  const file = path.join(root, IDENTITY_FILE);
  // The registry it was claimed in: a block claimed in a test's private registry is not kept.
  const record = {
    root: entry.root,
    namespace: entry.namespace,
    block: entry.block,
    reason: entry.reason,
    claimedAt: entry.claimedAt,
    registry,
  };
  const current = readIdentityFile(root);
  if (current && JSON.stringify(current) === JSON.stringify(record)) return;
  try {
    writeJsonAtomic(file, record);
  } catch {
    // A read-only checkout still runs; the registry holds the identity.
  }
}

/** The registry's entry of the checkout at `root`, without claiming anything (undefined when none). */
function findStack(root, env = process.env) {
  const real = realRoot(root);
  return readRegistry(env).find((entry) => entry.root === real);
}

/**
 * Records the checkout at `root` as the stack `namespace` on `block`, without the checks of a
 * claim: for a test harness that wrote free ports into a copy's ecosystem itself and needs them
 * used as written (block 0). Under the registry's lock; replaces the checkout's entry if any.
 */
function pinStack(root, { namespace, block }, env = process.env) {
  const real = realRoot(root);
  return withRegistryLock(env, () => {
    const entry = { root: real, namespace, block, reason: 'pinned', claimedAt: new Date().toISOString() };
    writeRegistry([...readRegistry(env).filter((e) => e.root !== real), entry], env);
    return entry;
  });
}

/** Removes the entries of `roots` from the registry, under its lock; returns those removed. */
function removeStacks(roots, env = process.env) {
  return withRegistryLock(env, () => {
    const stacks = readRegistry(env);
    const removed = stacks.filter((entry) => roots.includes(entry.root));
    if (removed.length > 0)
      writeRegistry(
        stacks.filter((entry) => !roots.includes(entry.root)),
        env,
      );
    return removed;
  });
}

/** The port offset a service process runs with: DEVSTACK_PORT_OFFSET, which the ecosystem sets (0 when unset). */
function portOffsetOf(env = process.env) {
  const offset = Number(env[PORT_OFFSET_VARIABLE]);
  return Number.isInteger(offset) && offset >= 0 ? offset : 0;
}

/** The environment the ecosystem gives every app of a stack. */
function stackEnv(identity) {
  return { [PORT_OFFSET_VARIABLE]: String(identity.offset), [NAMESPACE_VARIABLE]: identity.namespace };
}

module.exports = {
  BLOCK_STEP,
  DEFAULT_NAMESPACE,
  DOCUMENTED_WEB_PORT,
  FIRST_BLOCK_VARIABLE,
  IDENTITY_FILE,
  NAMESPACE_VARIABLE,
  PORT_OFFSET_VARIABLE,
  STATE_DIR_VARIABLE,
  findStack,
  namespaceFor,
  pinStack,
  portOffsetOf,
  readRegistry,
  registryPath,
  removeStacks,
  stackEnv,
  stackIdentity,
  stateDir,
};
