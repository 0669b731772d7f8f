/** Guards the optional `out` arrays that conversion kernels accept to avoid allocating. */
export function checkOutput(out: { length: number }, needed: number): void {
  if (out.length < needed) throw new RangeError(`output holds ${out.length} elements, ${needed} needed`);
}
