// `mabdet classifier export`: the exact images, labels and order a `classifier train` run sees,
// written to one binary file so another framework (scripts/torch_classifier_check.py) can train on
// the same data. Layout (little-endian):
//   char[8] "MABDSHP\0" | u32 version (1) | u32 size S | u32 classes | u32 batch
//   | i64 T (distinct training images) | i64 P (training positions = steps * batch) | i64 V (validation)
//   | i64 table_index[T]  dataset index of each table row (rows in order of first use)
//   | i64 order[P]        table row of the image at training position p (step p / batch)
//   | f32 table_image[T][3][S][S] | i64 table_label[T]
//   | f32 valid_image[V][3][S][S] | i64 valid_label[V]   (validation images 0..V-1, in order)
// Images are stored once however many epochs use them; within the first epoch order[p] == p.
#pragma once
#include <cstdint>
#include <string>

namespace mabdet {

// Writes the file for the images of the first `steps` training steps of (cfg, data) (steps < 0:
// the cfg's max_batches). With init_weights non-empty, also saves the network as
// `classifier train` initializes it, so another framework can start from the same weights.
void classifier_export(const std::string& cfg, const std::string& data, const std::string& out, int64_t steps,
                       const std::string& init_weights);

}  // namespace mabdet
