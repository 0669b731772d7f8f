/** Editing the declared type of a value (graph input/output, value_info entry). */
import type { ValueInfoProto } from '../onnx/gen/onnx_pb.js';
import { type DType, onnxDataType } from '../tensor/dtype.js';

/** Sets the element type of a declared tensor, keeping its shape; non-tensor or untyped entries stay as they are. */
export function setElementType(vi: ValueInfoProto, dtype: DType): void {
  if (vi.type?.value.case !== 'tensorType') return;
  vi.type.value.value.elemType = onnxDataType(dtype);
}
