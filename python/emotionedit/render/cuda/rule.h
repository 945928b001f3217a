// The resampling rule's scalar steps, one source for both kernels: the CPU's (cpp/engine/kernel.h, which
// includes this inside its anonymous namespace) and the GPU's (resample.cu, compiled at run time by NVRTC).
// Plain C++ with no headers of its own, so NVRTC needs none: each includer defines EE_FN (how a function is
// declared) and EE_FLOAT_BITS / EE_BITS_FLOAT (a float's 32 bits and back). Both are compiled without FMA
// contraction, so every step is the IEEE float32 operation written here, on a CPU and on a GPU alike.
#pragma once

constexpr float kA = -0.75f;  // Keys' cubic

// ---- float16 <-> float32, as numpy's astype (round to nearest even, subnormals, inf and NaN kept) ----

EE_FN float half_to_float(unsigned short h) {
  const unsigned int sign = static_cast<unsigned int>(h & 0x8000u) << 16;
  const unsigned int exponent = (h >> 10) & 0x1fu;
  unsigned int mantissa = h & 0x3ffu;
  unsigned int bits;
  if (exponent == 0x1fu) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf, NaN (payload kept)
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;  // +-0
  } else {  // subnormal: normalise
    int shift = 0;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | (static_cast<unsigned int>(113 - shift) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  return EE_BITS_FLOAT(bits);
}

EE_FN unsigned short float_to_half(float f) {
  const unsigned int bits = EE_FLOAT_BITS(f);
  const unsigned short sign = static_cast<unsigned short>((bits >> 16) & 0x8000u);
  const unsigned int magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // inf or NaN (a NaN stays a quiet NaN)
    return static_cast<unsigned short>(sign | 0x7c00u |
                                       (magnitude > 0x7f800000u ? 0x200u | ((magnitude >> 13) & 0x3ffu) : 0u));
  }
  if (magnitude >= 0x477ff000u) return static_cast<unsigned short>(sign | 0x7c00u);  // rounds past 65504: inf
  if (magnitude < 0x38800000u) {  // below the smallest normal half: a subnormal or zero
    if (magnitude < 0x33000000u) return sign;  // under half the smallest subnormal (ties to even: 0)
    const unsigned int exponent = magnitude >> 23;
    const unsigned int mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    const unsigned int shift = 126u - exponent;  // the half's 2^-24 unit
    const unsigned int value = mantissa >> shift;
    const unsigned int rest = mantissa & ((1u << shift) - 1u);
    const unsigned int halfway = 1u << (shift - 1u);
    const unsigned int rounded = value + ((rest > halfway || (rest == halfway && (value & 1u))) ? 1u : 0u);
    return static_cast<unsigned short>(sign | rounded);
  }
  // Normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even (a carry may
  // step the exponent up, which is the right result).
  const unsigned int rebased = magnitude - 0x38000000u;
  const unsigned int value = rebased >> 13;
  const unsigned int rest = rebased & 0x1fffu;
  const unsigned int rounded = value + ((rest > 0x1000u || (rest == 0x1000u && (value & 1u))) ? 1u : 0u);
  return static_cast<unsigned short>(sign | rounded);
}

// Saturated to [0, top], then rounded half to even (as np.rint then np.clip, and cv2's saturate_cast): adding
// and taking away 1.5 * 2^23 rounds in the default rounding mode, exactly for values below 2^22, with no
// library call.
EE_FN float round_saturated(float v, float top) {
  const float clamped = v > 0.0f ? (v < top ? v : top) : 0.0f;
  return (clamped + 12582912.0f) - 12582912.0f;  // 1.5 * 2^23
}

// Keys' cubic weights for the four taps at floor - 1 .. floor + 2, for the fraction t in [0, 1): a float, or
// (on the CPU) a vector of them, whose lanes do the same IEEE operations.
template <class T>
EE_FN void cubic_weights(T t, T w[4]) {
  const T t1 = t + 1.0f;
  const T u = 1.0f - t;
  w[0] = ((kA * t1 - 5.0f * kA) * t1 + 8.0f * kA) * t1 - 4.0f * kA;
  w[1] = ((kA + 2.0f) * t - (kA + 3.0f)) * t * t + 1.0f;
  w[2] = ((kA + 2.0f) * u - (kA + 3.0f)) * u * u + 1.0f;
  w[3] = 1.0f - w[0] - w[1] - w[2];
}

// floor(c) as an int and the fraction c - floor(c); far-off coordinates are limited first (their taps
// are the border's anyway). An integer conversion, not floorf: no library call without SSE4.1.
EE_FN int split_coordinate(float c, float* fraction) {
  const float above = c < -1.0e7f ? -1.0e7f : c;
  const float limited = 1.0e7f < above ? 1.0e7f : above;
  int whole = static_cast<int>(limited);  // truncates toward 0
  if (static_cast<float>(whole) > limited) --whole;
  *fraction = limited - static_cast<float>(whole);
  return whole;
}

EE_FN int clamp_index(int i, int size) { return i < 0 ? 0 : (i >= size ? size - 1 : i); }

// The shading gain g at a pixel whose matte is m, faded with the matte: the gain where m is 1, 1 where it is 0 (the
// plan hands the gain unfaded: it is made on a coarse grid and upsampled, the matte is the plate's own).
EE_FN float faded_gain(float g, float m) { return 1.0f + m * (g - 1.0f); }

// ---- the field: where a pixel samples, from the plan's compact backward map ----
// The displacement of a pixel is the coarse grid's (the thin-plate field, evaluated a few times per IOD)
// interpolated bilinearly, then blended toward each layer behind the face (the mouth's interior, the eyeballs)
// by the layer's weight. The kernels compute it per pixel, so the plan never spells it out at the plate's
// resolution (37 MB of planes for a 4K face, with the matte and the gain, went through host memory per frame).

// A (ny, nx, 2) grid of displacements laid over a region as cv2.resize's INTER_LINEAR lays a small image over a
// large one (cell centres, the edge cells held). One axis's step: the two grid lines around the region's pixel
// line u (scale: grid cells per pixel) and their weights.
EE_FN void grid_step(int u, float scale, int cells, int* i0, int* i1, float* s, float* t) {
  int i = split_coordinate((static_cast<float>(u) + 0.5f) * scale - 0.5f, t);
  if (i < 0) {
    i = 0;
    *t = 0.0f;
  } else if (i >= cells - 1) {
    i = cells - 1;
    *t = 0.0f;
  }
  *i0 = i;
  *i1 = i + 1 < cells ? i + 1 : i;
  *s = 1.0f - *t;
}

// Component k of a grid of ``comps`` components a cell (the field's: 0 x, 1 y; a gain's: its channels) at column x,
// between rows y0 and y1: the vertical step first, so a CPU computes it once per grid column and row of pixels and a
// GPU per pixel, with the same operations.
EE_FN float grid_between_rows(const float* grid, int nx, int comps, int x, int k, int y0, int y1, float sy, float ty) {
  return grid[comps * (static_cast<long long>(y0) * nx + x) + k] * sy +
         grid[comps * (static_cast<long long>(y1) * nx + x) + k] * ty;
}

// Component k of a grid (ny, nx, comps) at the pixel (u, v) of the region it lies over (scales: cells per pixel).
EE_FN float grid_at(const float* grid, int nx, int ny, int comps, float scale_x, float scale_y, int u, int v, int k) {
  int x0, x1, y0, y1;
  float sx, tx, sy, ty;
  grid_step(u, scale_x, nx, &x0, &x1, &sx, &tx);
  grid_step(v, scale_y, ny, &y0, &y1, &sy, &ty);
  return grid_between_rows(grid, nx, comps, x0, k, y0, y1, sy, ty) * sx +
         grid_between_rows(grid, nx, comps, x1, k, y0, y1, sy, ty) * tx;
}

// The layers, each a box of plate pixels and three planes over it: ``boxes`` holds five ints a layer (x0, y0, x1,
// y1, and where its planes start in ``values``: the weight, then the map's x, then its y, absolute plate
// coordinates, box.height x box.width each). Over its box a layer blends the displacement toward its own map:
// d (1 - w) + w (map - pixel); a later layer covers an earlier one.
EE_FN void layered_offset(const int* boxes, int count, const float* values, int px, int py, float* dx, float* dy) {
  for (int l = 0; l < count; ++l) {
    const int* box = boxes + 5 * l;
    if (px < box[0] || py < box[1] || px >= box[2] || py >= box[3]) continue;
    const long long size = static_cast<long long>(box[2] - box[0]) * (box[3] - box[1]);
    const long long at = static_cast<long long>(py - box[1]) * (box[2] - box[0]) + (px - box[0]);
    const float* weight = values + box[4];
    const float w = weight[at];
    const float keep = 1.0f - w;
    *dx = *dx * keep + w * (weight[size + at] - static_cast<float>(px));
    *dy = *dy * keep + w * (weight[2 * size + at] - static_cast<float>(py));
  }
}

// A plan's compact backward map (field.py's Field): the grid over the region whose top-left is plate pixel
// (x0, y0), and the layers.
struct Field {
  const float* grid;
  int nx, ny;
  float scale_x, scale_y;
  int x0, y0;
  const int* boxes;
  int layers;
  const float* values;
};

// The displacement with which plate pixel (px, py) samples the source (before the matte scales it).
EE_FN void field_offset(const Field& field, int px, int py, float* dx, float* dy) {
  *dx = grid_at(field.grid, field.nx, field.ny, 2, field.scale_x, field.scale_y, px - field.x0, py - field.y0, 0);
  *dy = grid_at(field.grid, field.nx, field.ny, 2, field.scale_x, field.scale_y, px - field.x0, py - field.y0, 1);
  layered_offset(field.boxes, field.layers, field.values, px, py, dx, dy);
}

// ---- the shading: the skin detail's gain, from the plan's coarse grid ----
// The skin detail's gain is made on a grid of at most 64 pixels per IOD (linear light, per colour channel or one for
// all) and laid over the face's region as the field's grid is; the kernels interpolate it per pixel, so the plan
// never spells it out at the plate's resolution (three planes, 22 MB for a 4K face, went through host memory to a
// GPU every frame). A gain of exactly 1 everywhere around a pixel stays exactly 1 there.
struct GainGrid {
  const float* grid;  // (ny, nx, channels)
  int nx, ny, channels;
  float scale_x, scale_y;
  int x0, y0;
};

// Channel k of the grid's gain at plate pixel (px, py).
EE_FN float grid_gain(const GainGrid& g, int px, int py, int k) {
  return grid_at(g.grid, g.nx, g.ny, g.channels, g.scale_x, g.scale_y, px - g.x0, py - g.y0, k);
}
