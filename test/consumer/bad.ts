// A deliberate type error: conv3d's weight is a Tensor, not a string. tsc must report it here.
import { conv3d, tensor } from 'voxgrad';

export const y = conv3d(tensor([1, 2, 3]), 'weights');
