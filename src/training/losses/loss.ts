/**
 * A loss appended to a forward model: the scalar to differentiate and the extra inputs the trainer
 * feeds each step.
 */
export interface LossGraph {
  /** The scalar loss value. */
  loss: string;
  /** The float32 input taking one-hot (or smoothed) targets, [N, classes]. */
  target: string;
  /** Distillation: the input taking the teacher's logits, [N, classes]. */
  teacherLogits?: string;
}
