// The generated classification dataset: 10 classes of shapes (circle, square, triangle, pentagon,
// hexagon, star, cross, ring, ellipse, half-disc) in random colours, sizes, positions and
// rotations over a textured background with clutter and noise. Image `index` of stream `seed` is
// a pure function of (seed, index, size), so any subset can be produced in any order or thread.
#pragma once
#include <cstdint>

namespace mabdet {

constexpr int kShapeClasses = 10;
const char* shape_class_name(int label);

// Renders into chw (3 x size x size floats, normalized to about zero mean / unit range) and
// returns the class label in [0, kShapeClasses).
int render_shape_image(uint64_t seed, int64_t index, int size, float* chw);

}  // namespace mabdet
