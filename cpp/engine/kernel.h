// The engine's per-pixel resampling rule and its row loop, shared by the module (resample.cpp) and the
// half-float kernel built for CPUs with F16C (resample_f16c.cpp). See resample.cpp for the rule.
//
// Included by two translation units compiled with different instruction sets: everything with code is in
// an anonymous namespace (each unit keeps its own, nothing is merged at link time); only plain data is
// shared, in emotionedit_kernel.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace emotionedit_kernel {

// The rule's scalar steps (the half-float conversions, the cubic's weights, rounding, coordinates, the field),
// shared with the GPU kernel: python/emotionedit/render/cuda/rule.h. Its functions are static (each unit keeps
// its own, compiled for its instruction set); its one type, Field, is plain data.
#define EE_FN static inline
static inline unsigned int ee_float_bits(float f) {
  unsigned int bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}
static inline float ee_bits_float(unsigned int bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
#define EE_FLOAT_BITS(f) ee_float_bits(f)
#define EE_BITS_FLOAT(b) ee_bits_float(b)
#include "rule.h"

// An (h, w, C) image: rows and pixels at any byte stride (rows may run bottom-up), channels adjacent.
struct View {
  char* base = nullptr;
  ptrdiff_t row_stride = 0;
  ptrdiff_t pixel_stride = 0;
  int height = 0;
  int width = 0;
  int channels = 0;
};

// An (h, w) float32 or uint8 plane.
template <class S>
struct Plane {
  const char* base = nullptr;
  ptrdiff_t row_stride = 0;
  ptrdiff_t col_stride = 0;
  int height = 0;
  int width = 0;
};

struct Job {
  View target;  // the output over the region (holds the source's pixels on entry)
  View window;  // the source pixels the samples read
  Field field;  // where each pixel samples (rule.h)
  Plane<float> matte;  // how much of the field's displacement is used (0: the pixel is not edited)
  int region_x0 = 0, region_y0 = 0;  // the region's top-left, plate pixels
  bool shaded = false;
  // over [gain_x0, gain_x0 + width) x [gain_y0, ...) of the region: one gain for the colour channels, or one
  // each (gain_channels 3: red, green, blue, gain_channel_stride bytes apart; a crease shades skin redder)
  Plane<float> gain;
  int gain_channels = 1;
  ptrdiff_t gain_channel_stride = 0;
  int gain_x0 = 0, gain_y0 = 0;
  // the skin detail's gain on its coarse grid (rule.h), times the plane's where both are given; channels 1 or 3
  bool grid_shaded = false;
  GainGrid gain_grid{};
  int window_x0 = 0, window_y0 = 0;  // the window's top-left, plate pixels
};

// The kernel for half-float plates using the CPU's F16C conversions (resample_f16c.cpp; only called where
// the CPU has them).
int64_t resample_half_f16c(const Job& job, int threads);

}  // namespace emotionedit_kernel

namespace {

using namespace emotionedit_kernel;


// ---- the plate's sample types ----

// Integer plates: U8 and U16 below, once the vector type is known.
struct F16;  // below, once the vector type is known

struct F32 {
  using Storage = float;
  static constexpr bool floating = true;
  static float load(Storage v) { return v; }
  static Storage store(float v) { return v; }
};

template <class S>
inline S* pixel(const View& view, int y, int x) {
  return reinterpret_cast<S*>(view.base + y * view.row_stride + x * view.pixel_stride);
}

template <class S>
inline const S& at(const Plane<S>& plane, int y, int x) {
  return *reinterpret_cast<const S*>(plane.base + y * plane.row_stride + x * plane.col_stride);
}

// A pixel's channels in the lanes of one SSE register (unused lanes 0): the 16 taps of a sample cost 16
// vector multiply-adds, for every channel count. Lane arithmetic is the scalar IEEE float32 operation.
typedef float v4 __attribute__((vector_size(16)));
typedef uint32_t u4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));

// Up to four unsigned 8- or 16-bit channels widened to 32-bit lanes, and back (the values fit: they were
// saturated). SSE2's unpacks and shuffles: a plain vector conversion of narrow lanes, or a generic shuffle,
// compiles to one scalar step per channel, which made 8-bit plates twice as slow as float ones.
template <class S>
inline u4 widened(const S* p, int count) {
#if defined(__SSE2__)
  uint64_t bits = 0;
  std::memcpy(&bits, p, sizeof(S) * count);
  __m128i lanes = _mm_cvtsi64_si128(static_cast<long long>(bits));
  const __m128i zero = _mm_setzero_si128();
  if constexpr (sizeof(S) == 1) lanes = _mm_unpacklo_epi8(lanes, zero);
  lanes = _mm_unpacklo_epi16(lanes, zero);
  u4 out;
  std::memcpy(&out, &lanes, sizeof out);
  return out;
#else
  u4 out = {0, 0, 0, 0};
  for (int c = 0; c < count; ++c) out[c] = p[c];
  return out;
#endif
}

template <class S>
inline void narrowed(S* p, u4 lanes, int count) {
#if defined(__SSE2__)
  __m128i v;
  std::memcpy(&v, &lanes, sizeof v);
  if constexpr (sizeof(S) == 1) {
    v = _mm_packs_epi32(v, v);   // 0..255 fit the signed 16-bit saturation
    v = _mm_packus_epi16(v, v);
  } else {  // the low 16 bits of each lane: words 0, 2, 4, 6
    v = _mm_shufflelo_epi16(v, _MM_SHUFFLE(3, 3, 2, 0));
    v = _mm_shufflehi_epi16(v, _MM_SHUFFLE(3, 3, 2, 0));
    v = _mm_shuffle_epi32(v, _MM_SHUFFLE(3, 3, 2, 0));
  }
  const uint64_t bits = static_cast<uint64_t>(_mm_cvtsi128_si64(v));
  std::memcpy(p, &bits, sizeof(S) * count);
#else
  for (int c = 0; c < count; ++c) p[c] = static_cast<S>(lanes[c]);
#endif
}

// Four halves to floats at once, exactly as half_to_float, with integer operations (and one exact int to
// float conversion for subnormal halves: scaling them as float denormals took microcode assists, and the
// dark parts of a linear plate are full of them): normal halves rebias their exponent, subnormals are their
// mantissa times 2^-24, inf and NaN get the float's all-ones exponent.
inline v4 halves_to_floats(const uint16_t* p, int count) {
  const u4 w = widened(p, count);
  const u4 em = (w & 0x7fffu) << 13;
  const u4 exponent = w & 0x7c00u;
  const v4 tiny = __builtin_convertvector((i4)(w & 0x3ffu), v4) * 0x1p-24f;  // exact: a normal float
  u4 tiny_bits;
  std::memcpy(&tiny_bits, &tiny, sizeof tiny_bits);
  const u4 subnormal = (u4)(exponent == 0u);
  const u4 special = (u4)(exponent == 0x7c00u);
  u4 bits = em + (112u << 23);
  bits = (bits & ~subnormal) | (tiny_bits & subnormal);
  bits = (bits & ~special) | ((em | 0x7f800000u) & special);
  bits |= (w & 0x8000u) << 16;
  v4 v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

inline v4 vmin(v4 a, v4 b) { return a < b ? a : b; }
inline v4 vmax(v4 a, v4 b) { return a > b ? a : b; }

// rule.h's round_saturated on four lanes (a library call, nearbyint without SSE4.1, per channel made 8-bit
// plates twice as slow as float ones).
using emotionedit_kernel::round_saturated;  // the scalar one (rule.h), beside this one

inline v4 round_saturated(v4 v, float top) {
  const v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
  const v4 limit = {top, top, top, top};
  const v4 clamped = vmin(vmax(v, zero), limit);
  return (clamped + 0x1.8p23f) - 0x1.8p23f;
}

template <class S, int kTop>
struct Integer {
  using Storage = S;
  static constexpr bool floating = false;
  static constexpr bool vector_io = true;
  static float load(Storage v) { return static_cast<float>(v); }
  static Storage store(float v) { return static_cast<Storage>(round_saturated(v, float(kTop))); }
  static v4 load_vector(const Storage* p, int count) {
    return __builtin_convertvector(__builtin_convertvector(widened(p, count), i4), v4);
  }
  static void store_vector(Storage* p, v4 v, int count) {
    narrowed(p, __builtin_convertvector(__builtin_convertvector(round_saturated(v, float(kTop)), i4), u4), count);
  }
};

using U8 = Integer<uint8_t, 255>;
using U16 = Integer<uint16_t, 65535>;

// Half floats in software (CPUs without F16C): four loaded at once, stored one by one.
struct F16 {
  using Storage = uint16_t;
  static constexpr bool floating = true;
  static constexpr bool vector_io = true;
  static float load(Storage v) { return half_to_float(v); }
  static Storage store(float v) { return float_to_half(v); }
  static v4 load_vector(const Storage* p, int count) { return halves_to_floats(p, count); }
  static void store_vector(Storage* p, v4 v, int count) {
    for (int c = 0; c < count; ++c) p[c] = float_to_half(v[c]);
  }
};

template <class P, class = void>
struct has_vector_io : std::false_type {};
template <class P>
struct has_vector_io<P, std::enable_if_t<P::vector_io>> : std::true_type {};

template <class P, int C>
inline v4 load_pixel(const typename P::Storage* p) {
  if constexpr (std::is_same_v<P, F32> && C == 4) {
    v4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
  } else if constexpr (has_vector_io<P>::value) {
    return P::load_vector(p, C);
  } else {
    v4 v = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int c = 0; c < C; ++c) v[c] = P::load(p[c]);
    return v;
  }
}

template <class P, int C>
inline void store_pixel(typename P::Storage* p, v4 v) {
  if constexpr (std::is_same_v<P, F32> && C == 4) {
    std::memcpy(p, &v, sizeof v);
  } else if constexpr (has_vector_io<P>::value) {
    P::store_vector(p, v, C);
  } else {
    for (int c = 0; c < C; ++c) p[c] = P::store(v[c]);
  }
}


// Whether every lane is finite (x - x is 0 for finite x, NaN for inf and NaN).
inline bool finite(v4 v) {
#if defined(__SSE2__)
  const v4 d = v - v;
  __m128 lanes;
  std::memcpy(&lanes, &d, sizeof lanes);
  return _mm_movemask_ps(_mm_cmpeq_ps(lanes, _mm_setzero_ps())) == 0xf;  // one mask test, not three lane moves
#else
  const i4 zero = (v - v) == 0.0f;  // -1 where finite
  return (zero[0] & zero[1] & zero[2] & zero[3]) != 0;
#endif
}

// The colour channels' gains (the first min(C, 3); one gain for all when a grey plate's), each faded with the
// pixel's matte m; a gain of exactly 1 leaves its channel's bits alone.
template <class P, int C>
void shade_channels(typename P::Storage* out, const float g[3], float m) {
  constexpr int colour = C < 3 ? C : 3;
  for (int c = 0; c < colour; ++c) {
    if (g[c] != 1.0f) out[c] = P::store(P::load(out[c]) * faded_gain(g[c], m));
  }
}

// The cubic over a footprint of 4 x 4 pixels (row_at(r): the address of row r's first tap; col_at(k): tap k's byte
// offset in a row), rows first then columns, the vertical sum taken as the rows come (the same operations in the
// same order as summing the four rows after), and the range of the 2 x 2 pixels around the sample (low, high).
template <class P, int C, class RowAt, class ColAt>
inline v4 footprint(const RowAt& row_at, const ColAt& col_at, const v4 w[4], v4* low, v4* high) {
  using S = typename P::Storage;
  v4 value;
  for (int r = 0; r < 4; ++r) {
    const char* row = row_at(r);
    const v4 p0 = load_pixel<P, C>(reinterpret_cast<const S*>(row + col_at(0)));
    const v4 p1 = load_pixel<P, C>(reinterpret_cast<const S*>(row + col_at(1)));
    const v4 p2 = load_pixel<P, C>(reinterpret_cast<const S*>(row + col_at(2)));
    const v4 p3 = load_pixel<P, C>(reinterpret_cast<const S*>(row + col_at(3)));
    const v4 across = ((w[0][0] * p0 + w[1][0] * p1) + w[2][0] * p2) + w[3][0] * p3;
    value = r == 0 ? w[0][1] * across : value + w[r][1] * across;
    if (r == 1) {
      *low = vmin(p1, p2);
      *high = vmax(p1, p2);
    } else if (r == 2) {
      *low = vmin(*low, vmin(p1, p2));
      *high = vmax(*high, vmax(p1, p2));
    }
  }
  return value;
}

// A grid's horizontal steps for every column of the region (the same for every row): computed once a job.
struct ColumnSteps {
  std::vector<int> x0, x1;
  std::vector<float> sx, tx;

  // grid_x0: the plate column the grid's region starts at; scale: cells per pixel; cells: the grid's columns
  ColumnSteps(const Job& job, int grid_x0, float scale, int cells)
      : x0(job.target.width), x1(job.target.width), sx(job.target.width), tx(job.target.width) {
    for (int j = 0; j < job.target.width; ++j) grid_step(job.region_x0 + j - grid_x0, scale, cells, &x0[j], &x1[j], &sx[j], &tx[j]);
  }
};

// The skin detail's gain grid along one row of the region (rule.h's grid_gain, its vertical step taken once per
// grid column and channel for the row): the GPU's operations, so the same bits.
class RowGain {
 public:
  RowGain(const Job& job, const ColumnSteps& columns)
      : job_(job), columns_(columns), row_(job.grid_shaded ? job.gain_grid.nx : 0) {}

  void start(int i) {
    const GainGrid& g = job_.gain_grid;
    int y0, y1;
    float sy, ty;
    grid_step(job_.region_y0 + i - g.y0, g.scale_y, g.ny, &y0, &y1, &sy, &ty);
    for (int c = 0; c < g.nx; ++c) {
      v4 lanes = {1.0f, 1.0f, 1.0f, 1.0f};  // the channels in lanes; one gain for all in every lane
      for (int k = 0; k < 3; ++k) lanes[k] = grid_between_rows(g.grid, g.nx, g.channels, c, g.channels == 3 ? k : 0, y0, y1, sy, ty);
      row_[c] = lanes;
    }
  }

  // The gains of the colour channels at column j (lane k: channel k), each lane the scalar rule's operations.
  v4 at(int j) const { return row_[columns_.x0[j]] * columns_.sx[j] + row_[columns_.x1[j]] * columns_.tx[j]; }

 private:
  const Job& job_;
  const ColumnSteps& columns_;
  std::vector<v4> row_;
};

// The field's displacements along one row of the region (rule.h's field_offset, its vertical step taken once per
// grid column for the row): what the GPU computes per pixel, the same operations, so the same bits.
class RowField {
 public:
  RowField(const Job& job, const ColumnSteps& columns) : job_(job), columns_(columns), x_(job.field.nx), y_(job.field.nx) {}

  void start(int i) {
    const Field& f = job_.field;
    const int py = job_.region_y0 + i;
    int y0, y1;
    float sy, ty;
    grid_step(py - f.y0, f.scale_y, f.ny, &y0, &y1, &sy, &ty);
    for (int c = 0; c < f.nx; ++c) {
      x_[c] = grid_between_rows(f.grid, f.nx, 2, c, 0, y0, y1, sy, ty);
      y_[c] = grid_between_rows(f.grid, f.nx, 2, c, 1, y0, y1, sy, ty);
    }
    layered_ = false;  // whether a layer's box holds this row
    for (int l = 0; l < f.layers; ++l) layered_ = layered_ || (py >= f.boxes[5 * l + 1] && py < f.boxes[5 * l + 3]);
    py_ = py;
  }

  void at(int j, float* dx, float* dy) const {
    const int a = columns_.x0[j], b = columns_.x1[j];
    *dx = x_[a] * columns_.sx[j] + x_[b] * columns_.tx[j];
    *dy = y_[a] * columns_.sx[j] + y_[b] * columns_.tx[j];
    if (layered_) layered_offset(job_.field.boxes, job_.field.layers, job_.field.values, job_.region_x0 + j, py_, dx, dy);
  }

 private:
  const Job& job_;
  const ColumnSteps& columns_;
  std::vector<float> x_, y_;
  bool layered_ = false;
  int py_ = 0;
};

template <class P, int C>
int64_t run_rows(const Job& job, const ColumnSteps& columns, const ColumnSteps& gain_columns, int row0, int row1) {
  using S = typename P::Storage;
  const View& win = job.window;
  int64_t skipped = 0;
  RowField field(job, columns);
  RowGain grid_gain(job, gain_columns);
  for (int i = row0; i < row1; ++i) {
    field.start(i);
    if (job.grid_shaded) grid_gain.start(i);
    const int gi = i - job.gain_y0;
    const bool gain_row = job.shaded && gi >= 0 && gi < job.gain.height;
    for (int j = 0; j < job.target.width; ++j) {
      const float m = at(job.matte, i, j);
      if (!(m > 0.0f)) continue;
      S* out = pixel<S>(job.target, i, j);
      // Where the pixel samples: itself plus the matte times the field's displacement (the edit fades out with
      // the matte; a soft edge, never a cross-fade of two images).
      float dx, dy;
      field.at(j, &dx, &dy);
      const float x = static_cast<float>(job.region_x0 + j) + m * dx;
      const float y = static_cast<float>(job.region_y0 + i) + m * dy;
      bool clean = (x - x == 0.0f) && (y - y == 0.0f);
      if constexpr (P::floating) clean = clean && finite(load_pixel<P, C>(out));
      if (clean) {
        float tx, ty;
        const int ix = split_coordinate(x, &tx) - job.window_x0;
        const int iy = split_coordinate(y, &ty) - job.window_y0;
        v4 w[4];
        cubic_weights(v4{tx, ty, 0.0f, 0.0f}, w);
        // The footprint's rows and columns: inside the window by address steps, at its border replicated.
        v4 value, low, high;
        if (ix >= 1 && ix + 2 < win.width && iy >= 1 && iy + 2 < win.height) {
          const char* first = win.base + (iy - 1) * win.row_stride + (ix - 1) * win.pixel_stride;
          const ptrdiff_t rs = win.row_stride, ps = win.pixel_stride;
          value = footprint<P, C>([&](int r) { return first + r * rs; }, [&](int k) { return k * ps; }, w, &low, &high);
        } else {
          const char* rows_at[4];
          ptrdiff_t cols_at[4];
          for (int k = 0; k < 4; ++k) {
            rows_at[k] = win.base + clamp_index(iy - 1 + k, win.height) * win.row_stride;
            cols_at[k] = clamp_index(ix - 1 + k, win.width) * win.pixel_stride;
          }
          value = footprint<P, C>([&](int r) { return rows_at[r]; }, [&](int k) { return cols_at[k]; }, w, &low, &high);
        }
        // Every sample weighs all 16 pixels (0 * inf is NaN): a finite sum means a finite footprint.
        clean = finite(value);
        if (clean) store_pixel<P, C>(out, vmin(vmax(value, low), high));
      }
      if (!clean) ++skipped;
      // The shading, per colour channel: the grid's gain times the plane's (that order in every kernel).
      const int gj = j - job.gain_x0;
      const bool plane = gain_row && gj >= 0 && gj < job.gain.width;
      if (job.grid_shaded || plane) {
        float g[3] = {1.0f, 1.0f, 1.0f};
        if (job.grid_shaded) {
          const v4 lanes = grid_gain.at(j);
          for (int c = 0; c < 3; ++c) g[c] = lanes[c];
        }
        if (plane) {
          const char* at_channel = reinterpret_cast<const char*>(&at(job.gain, gi, gj));
          for (int c = 0; c < 3; ++c) {
            const ptrdiff_t step = job.gain_channels == 3 ? c * job.gain_channel_stride : 0;
            g[c] = job.grid_shaded ? g[c] * *reinterpret_cast<const float*>(at_channel + step)
                                   : *reinterpret_cast<const float*>(at_channel + step);
          }
        }
        shade_channels<P, C>(out, g, m);
      }
    }
  }
  return skipped;
}

// Bands of rows handed out to ``threads`` workers (the face matte is a blob: many small bands balance it).
template <class Fn>
void parallel_rows(int height, int threads, Fn&& fn) {
  const int band = 16;
  const int bands = (height + band - 1) / band;
  threads = std::max(1, std::min(threads, bands));
  std::atomic<int> next{0};
  auto worker = [&]() {
    for (int b = next++; b < bands; b = next++) fn(b * band, std::min(height, (b + 1) * band));
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

template <class P, int C>
int64_t run(const Job& job, int threads) {
  std::atomic<int64_t> skipped{0};
  const ColumnSteps columns(job, job.field.x0, job.field.scale_x, job.field.nx);
  const GainGrid& g = job.gain_grid;
  const ColumnSteps gain_columns = job.grid_shaded ? ColumnSteps(job, g.x0, g.scale_x, g.nx) : ColumnSteps(job, 0, 1.0f, 1);
  parallel_rows(job.target.height, threads,
                [&](int r0, int r1) { skipped += run_rows<P, C>(job, columns, gain_columns, r0, r1); });
  return skipped;
}

template <class P>
int64_t dispatch_channels(const Job& job, int threads) {
  switch (job.target.channels) {
    case 1: return run<P, 1>(job, threads);
    case 2: return run<P, 2>(job, threads);
    case 3: return run<P, 3>(job, threads);
    case 4: return run<P, 4>(job, threads);
    default: throw std::invalid_argument("plates have 1 to 4 channels, got " + std::to_string(job.target.channels));
  }
}

}  // namespace
