/**
 * Two-party additive secret sharing of field vectors: x = server + client (mod p).
 *
 * Delphi's convention, used throughout lib/mpc: the client's share is its random mask r
 * (chosen offline), the server's share is x - r. Either share alone is uniform and independent
 * of x.
 *
 * @module
 */

import { Fp, type PrimeField } from "./field.ts";
import type { Prg } from "./prg.ts";

/** The two protocol parties; the server owns the model, the client the input. */
export type Party = "server" | "client";

/** Additive shares of one vector. */
export interface Shares {
  /** x - client (mod p). */
  readonly server: Float64Array;
  /** Uniform mask from `prg`. */
  readonly client: Float64Array;
}

/** Splits field vector `x` into shares: the client's is uniform from `prg`, the server's x - client. */
export function share(x: Float64Array, prg: Prg, F: PrimeField = Fp): Shares {
  F.checkVec(x, "share: x");
  const client = F.random(x.length, prg);
  return { server: F.subVec(x, client), client };
}

/** x = server + client (mod p); checks lengths and that both are field vectors. */
export function reconstruct(server: Float64Array, client: Float64Array, F: PrimeField = Fp): Float64Array {
  if (server.length !== client.length) {
    throw new RangeError(
      `reconstruct: share lengths differ (server ${server.length}, client ${client.length})`,
    );
  }
  F.checkVec(server, "reconstruct: server share");
  F.checkVec(client, "reconstruct: client share");
  return F.addVec(server, client);
}
