// Connection limits, total and per client address, that an idle crowd cannot use to lock real clients out.
//
// Before, 19,990 TCP connections that never started TLS used up the process's file descriptors and nobody else got
// in. A plain cap (net.Server#maxConnections) only moves the problem: at the cap it refuses the NEW connection,
// which is the real client's. Here, at a cap, the oldest connection still in its TLS handshake is closed to make
// room: a connection that has not proved it holds a certificate is worth less than one that may. Only when every
// connection counted against the cap has finished its handshake is the new one refused. Together with the
// handshake timeout this bounds what idle sockets can hold, and a client with a certificate is served at once.
//
// The raw TCP socket is tracked from the server's 'connection' event; 'secureConnection' hands over the TLS socket,
// whose _parent is that raw socket (Node's own field, the only link between the two).
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export type LimitEvent = {
  reason: 'evicted' | 'refused';
  scope: 'total' | 'address';
  address: string;
};

interface Tracked {
  address: string;
  established: boolean;
}

export class ConnectionGuard {
  private readonly all = new Map<Socket, Tracked>();
  /** sockets still in their handshake, oldest first (a Map keeps insertion order) */
  private readonly pending = new Map<Socket, Tracked>();
  private readonly pendingByAddress = new Map<string, Set<Socket>>();
  private readonly countByAddress = new Map<string, number>();
  /** sockets this guard closed: their TLS errors are not reported again */
  private readonly closedByGuard = new WeakSet<Socket>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly onLimit: (e: LimitEvent) => void,
  ) {}

  attach(server: TlsServer): void {
    // prepended: the decision comes before the TLS layer starts its handshake on the socket
    server.prependListener('connection', (socket: Socket) => this.admit(socket));
    server.prependListener('secureConnection', (tls: TLSSocket) => {
      const raw = (tls as TLSSocket & { _parent?: Socket })._parent;
      if (raw) this.established(raw);
    });
  }

  /** True for a TLS socket whose connection this guard closed (its handshake error was already accounted for). */
  closedHere(tls: TLSSocket | undefined): boolean {
    const raw = (tls as (TLSSocket & { _parent?: Socket }) | undefined)?._parent;
    return raw !== undefined && this.closedByGuard.has(raw);
  }

  /** Closes every connection still tracked (shutdown). */
  closeAll(): void {
    for (const socket of [...this.all.keys()]) {
      this.closedByGuard.add(socket);
      socket.destroy();
    }
  }

  counts(): { handshake: number; established: number } {
    return { handshake: this.pending.size, established: this.all.size - this.pending.size };
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    if (this.all.size >= this.limits.maxConnections && !this.evictOldest(this.pending.keys(), 'total')) {
      this.close(socket, { reason: 'refused', scope: 'total', address });
      return;
    }
    if (
      (this.countByAddress.get(address) ?? 0) >= this.limits.maxConnectionsPerAddress &&
      !this.evictOldest(this.pendingByAddress.get(address)?.values() ?? [].values(), 'address')
    ) {
      this.close(socket, { reason: 'refused', scope: 'address', address });
      return;
    }
    const t: Tracked = { address, established: false };
    this.all.set(socket, t);
    this.pending.set(socket, t);
    let set = this.pendingByAddress.get(address);
    if (!set) this.pendingByAddress.set(address, (set = new Set()));
    set.add(socket);
    this.countByAddress.set(address, (this.countByAddress.get(address) ?? 0) + 1);
    socket.once('close', () => this.forget(socket));
  }

  private established(socket: Socket): void {
    const t = this.all.get(socket);
    if (!t || t.established) return;
    t.established = true;
    this.unpend(socket, t);
  }

  private evictOldest(candidates: Iterator<Socket>, scope: LimitEvent['scope']): boolean {
    const next = candidates.next();
    if (next.done) return false;
    const victim = next.value;
    const t = this.all.get(victim)!;
    this.forget(victim); // counted free now: destroy() reports 'close' only on a later tick
    this.close(victim, { reason: 'evicted', scope, address: t.address });
    return true;
  }

  private close(socket: Socket, e: LimitEvent): void {
    this.closedByGuard.add(socket);
    socket.destroy();
    this.onLimit(e);
  }

  private unpend(socket: Socket, t: Tracked): void {
    this.pending.delete(socket);
    const set = this.pendingByAddress.get(t.address);
    set?.delete(socket);
    if (set?.size === 0) this.pendingByAddress.delete(t.address);
  }

  private forget(socket: Socket): void {
    const t = this.all.get(socket);
    if (!t) return;
    this.all.delete(socket);
    this.unpend(socket, t);
    const n = (this.countByAddress.get(t.address) ?? 1) - 1;
    if (n <= 0) this.countByAddress.delete(t.address);
    else this.countByAddress.set(t.address, n);
  }
}
