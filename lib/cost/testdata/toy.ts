/**
 * Hand-written calibrations for tests: unit costs chosen so that prices can be computed by hand.
 *
 * @module
 */
import type { Calibration, UnitCost } from "../calibration.ts";
import type { Operation } from "../variants.ts";

/** A unit cost: seconds, bytes to the server, bytes to the client. */
export const unit = (seconds: number, toServer = 0, toClient = 0): UnitCost => ({
  seconds,
  toServer,
  toClient,
});

/** A compute-only calibration named "toy" with the given unit costs. */
export function toyCalibration(units: Partial<Record<Operation, UnitCost>>): Calibration {
  return { name: "toy", source: "test", includesNetwork: false, units };
}
