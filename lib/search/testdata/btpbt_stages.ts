/**
 * BTPBT's stages on CNN-7 (7 activation sites: 3 levels, the root and 6 sibling pairs, then the
 * global PBT) in Algorithm 1's order: what the unit test and the command's test both expect.
 */
export const CNN7_BTPBT_STAGES: readonly string[] = [
  "btpbt/root",
  "btpbt/L1/pair0",
  "btpbt/L2/pair0",
  "btpbt/L2/pair1",
  "btpbt/L3/pair0",
  "btpbt/L3/pair1",
  "btpbt/L3/pair2",
  "btpbt/global",
];
