// emotionedit.render._resample: the engine's per-pixel resampling, one pass over the face.
//
// The render's pixel step (python/emotionedit/render/pixels.py) was a chain of OpenCV calls per band of
// rows: a bicubic remap, two nearest remaps of an eroded and a dilated copy for the clamp, a finite check,
// the masked copy and the shading, each a pass over memory (66-100 ms a 4K float frame, 6-8x a plain copy
// of the frame). Here every edited pixel is computed once, from the 16 source pixels of its cubic footprint:
//
//   * the pixel samples the source at itself plus the matte times the field's displacement (the edit fades
//     out with the matte; where the matte is 0 the pixel is not touched);
//   * Keys' cubic (a = -0.75, OpenCV's INTER_CUBIC weights) at the sample's exact fractional position,
//     borders replicated, in float32, rows first then columns;
//   * clamped to the range of the 2x2 pixels around the sample (no halos, no new extremes: values above 1
//     and negative values survive, an opaque alpha stays exactly 1);
//   * a sample whose footprint holds NaN or inf, or an output pixel that holds one, keeps the output pixel
//     (counted as skipped): the edit neither moves nor spreads a plate's defects;
//   * stored in the plate's own type (uint8, uint16 rounded half to even and saturated; float16 rounded to
//     nearest even; float32 as is), then the shading gain multiplies the colour channels (the first three)
//     as python/emotionedit/render/detail.py's shade_into does on the stored value.
//
// Arithmetic is plain IEEE float32 in a fixed order with no contraction into FMA (-ffp-contract=off), so
// tests/engine/test_resample_kernel.py's numpy transcription of it gives the same bits.
// The work is split into bands of rows over threads, with the GIL released.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

namespace py = pybind11;

namespace {

// ---- float16 <-> float32, as numpy's astype (round to nearest even, subnormals, inf and NaN kept) ----

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
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
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // inf or NaN (a NaN stays a quiet NaN)
    return static_cast<uint16_t>(sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x200u | ((magnitude >> 13) & 0x3ffu) : 0u));
  }
  if (magnitude >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504: inf
  if (magnitude < 0x38800000u) {  // below the smallest normal half: a subnormal or zero
    if (magnitude < 0x33000000u) return sign;  // under half the smallest subnormal (ties to even: 0)
    const uint32_t exponent = magnitude >> 23;
    const uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - exponent;  // 14 + (113 - exponent) - 1 ... the half's 2^-24 unit
    const uint32_t value = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1u);
    const uint32_t rounded = value + ((rest > halfway || (rest == halfway && (value & 1u))) ? 1u : 0u);
    return static_cast<uint16_t>(sign | rounded);
  }
  // Normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even (a carry may
  // step the exponent up, which is the right result).
  const uint32_t rebased = magnitude - 0x38000000u;
  const uint32_t value = rebased >> 13;
  const uint32_t rest = rebased & 0x1fffu;
  const uint32_t rounded = value + ((rest > 0x1000u || (rest == 0x1000u && (value & 1u))) ? 1u : 0u);
  return static_cast<uint16_t>(sign | rounded);
}

// ---- the plate's sample types ----

struct U8 {
  using Storage = uint8_t;
  static constexpr bool floating = false;
  static float load(Storage v) { return static_cast<float>(v); }
  static Storage store(float v) {  // round half to even, then saturate (as cv2's saturate_cast and np.rint)
    const float r = std::nearbyint(v);
    return static_cast<Storage>(r <= 0.0f ? 0.0f : (r >= 255.0f ? 255.0f : r));
  }
};

struct U16 {
  using Storage = uint16_t;
  static constexpr bool floating = false;
  static float load(Storage v) { return static_cast<float>(v); }
  static Storage store(float v) {
    const float r = std::nearbyint(v);
    return static_cast<Storage>(r <= 0.0f ? 0.0f : (r >= 65535.0f ? 65535.0f : r));
  }
};

struct F16 {
  using Storage = uint16_t;
  static constexpr bool floating = true;
  static float load(Storage v) { return half_to_float(v); }
  static Storage store(float v) { return float_to_half(v); }
};

struct F32 {
  using Storage = float;
  static constexpr bool floating = true;
  static float load(Storage v) { return v; }
  static Storage store(float v) { return v; }
};

// An (h, w, C) image: rows and pixels at any byte stride (rows may run bottom-up), channels adjacent.
struct View {
  char* base = nullptr;
  ptrdiff_t row_stride = 0;
  ptrdiff_t pixel_stride = 0;
  int height = 0;
  int width = 0;
  int channels = 0;

  template <class S>
  S* pixel(int y, int x) const {
    return reinterpret_cast<S*>(base + y * row_stride + x * pixel_stride);
  }
};

// An (h, w) float32 or uint8 plane.
template <class S>
struct Plane {
  const char* base = nullptr;
  ptrdiff_t row_stride = 0;
  ptrdiff_t col_stride = 0;
  int height = 0;
  int width = 0;

  const S& at(int y, int x) const { return *reinterpret_cast<const S*>(base + y * row_stride + x * col_stride); }
};

struct Job {
  View target;  // the output over the region (holds the source's pixels on entry)
  View window;  // the source pixels the samples read
  Plane<float> offset_x, offset_y;  // the field's displacement at each pixel of the region
  Plane<float> matte;  // how much of it is used (0: the pixel is not edited)
  int region_x0 = 0, region_y0 = 0;  // the region's top-left, plate pixels
  bool shaded = false;
  Plane<float> gain;  // over [gain_x0, gain_x0 + width) x [gain_y0, ...) of the region
  int gain_x0 = 0, gain_y0 = 0;
  int window_x0 = 0, window_y0 = 0;  // the window's top-left, plate pixels
};

constexpr float kA = -0.75f;

// A pixel's channels in the lanes of one SSE register (unused lanes 0): the 16 taps of a sample cost 16
// vector multiply-adds, for every channel count. Lane arithmetic is the scalar IEEE float32 operation.
typedef float v4 __attribute__((vector_size(16)));

template <class P, int C>
inline v4 load_pixel(const typename P::Storage* p) {
  if constexpr (std::is_same_v<P, F32> && C == 4) {
    v4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
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
  } else {
    for (int c = 0; c < C; ++c) p[c] = P::store(v[c]);
  }
}

inline v4 vmin(v4 a, v4 b) { return a < b ? a : b; }
inline v4 vmax(v4 a, v4 b) { return a > b ? a : b; }

// Whether every lane is finite (x - x is 0 for finite x, NaN for inf and NaN).
inline bool finite(v4 v) {
  typedef int i4 __attribute__((vector_size(16)));
  const i4 zero = (v - v) == 0.0f;  // -1 where finite
  return (zero[0] & zero[1] & zero[2] & zero[3]) != 0;
}

// Keys' cubic weights for the four taps at floor - 1 .. floor + 2, for the fraction t in [0, 1) of each lane
// (x and y of a sample side by side: one set of vector operations for both axes).
inline void cubic_weights(v4 t, v4 w[4]) {
  const v4 t1 = t + 1.0f;
  const v4 u = 1.0f - t;
  w[0] = ((kA * t1 - 5.0f * kA) * t1 + 8.0f * kA) * t1 - 4.0f * kA;
  w[1] = ((kA + 2.0f) * t - (kA + 3.0f)) * t * t + 1.0f;
  w[2] = ((kA + 2.0f) * u - (kA + 3.0f)) * u * u + 1.0f;
  w[3] = 1.0f - w[0] - w[1] - w[2];
}

// floor(c) as an int and the fraction c - floor(c); far-off coordinates are limited first (their taps
// are the border's anyway). An integer conversion, not floorf: no library call without SSE4.1.
inline int split_coordinate(float c, float* fraction) {
  const float limited = std::min(std::max(c, -1.0e7f), 1.0e7f);
  int whole = static_cast<int>(limited);  // truncates toward 0
  if (static_cast<float>(whole) > limited) --whole;
  *fraction = limited - static_cast<float>(whole);
  return whole;
}

inline int clamp_index(int i, int size) { return i < 0 ? 0 : (i >= size ? size - 1 : i); }

template <class P, int C>
void shade(typename P::Storage* out, float g) {
  constexpr int colour = C < 3 ? C : 3;
  for (int c = 0; c < colour; ++c) out[c] = P::store(P::load(out[c]) * g);
}

// Where the pixel (i, j) of the region samples the source: the pixel plus the matte times the field's
// displacement (the edit fades out with the matte; a soft edge, never a cross-fade of two images).
inline void sample_position(const Job& job, int i, int j, float m, float* x, float* y) {
  *x = static_cast<float>(job.region_x0 + j) + m * job.offset_x.at(i, j);
  *y = static_cast<float>(job.region_y0 + i) + m * job.offset_y.at(i, j);
}

template <class P, int C>
int64_t run_rows(const Job& job, int row0, int row1) {
  using S = typename P::Storage;
  const View& win = job.window;
  int64_t skipped = 0;
  for (int i = row0; i < row1; ++i) {
    const int gi = i - job.gain_y0;
    const bool gain_row = job.shaded && gi >= 0 && gi < job.gain.height;
    for (int j = 0; j < job.target.width; ++j) {
      const float m = job.matte.at(i, j);
      if (!(m > 0.0f)) continue;
      S* out = job.target.pixel<S>(i, j);
      float x, y;
      sample_position(job, i, j, m, &x, &y);
      bool clean = (x - x == 0.0f) && (y - y == 0.0f);
      if constexpr (P::floating) clean = clean && finite(load_pixel<P, C>(out));
      if (clean) {
        float tx, ty;
        const int ix = split_coordinate(x, &tx) - job.window_x0;
        const int iy = split_coordinate(y, &ty) - job.window_y0;
        v4 w[4];
        cubic_weights(v4{tx, ty, 0.0f, 0.0f}, w);
        // The footprint's rows and the byte offsets of its columns, replicating the window's border.
        const char* rows_at[4];
        ptrdiff_t cols_at[4];
        if (ix >= 1 && ix + 2 < win.width && iy >= 1 && iy + 2 < win.height) {
          const char* first = win.base + (iy - 1) * win.row_stride;
          for (int k = 0; k < 4; ++k) {
            rows_at[k] = first + k * win.row_stride;
            cols_at[k] = (ix - 1 + k) * win.pixel_stride;
          }
        } else {
          for (int k = 0; k < 4; ++k) {
            rows_at[k] = win.base + clamp_index(iy - 1 + k, win.height) * win.row_stride;
            cols_at[k] = clamp_index(ix - 1 + k, win.width) * win.pixel_stride;
          }
        }
        v4 rows[4], low, high;
        for (int r = 0; r < 4; ++r) {
          const char* row = rows_at[r];
          const v4 p0 = load_pixel<P, C>(reinterpret_cast<const S*>(row + cols_at[0]));
          const v4 p1 = load_pixel<P, C>(reinterpret_cast<const S*>(row + cols_at[1]));
          const v4 p2 = load_pixel<P, C>(reinterpret_cast<const S*>(row + cols_at[2]));
          const v4 p3 = load_pixel<P, C>(reinterpret_cast<const S*>(row + cols_at[3]));
          rows[r] = ((w[0][0] * p0 + w[1][0] * p1) + w[2][0] * p2) + w[3][0] * p3;
          if (r == 1) {
            low = vmin(p1, p2);
            high = vmax(p1, p2);
          } else if (r == 2) {
            low = vmin(low, vmin(p1, p2));
            high = vmax(high, vmax(p1, p2));
          }
        }
        const v4 value = ((w[0][1] * rows[0] + w[1][1] * rows[1]) + w[2][1] * rows[2]) + w[3][1] * rows[3];
        // Every sample weighs all 16 pixels (0 * inf is NaN): a finite sum means a finite footprint.
        clean = finite(value);
        if (clean) store_pixel<P, C>(out, vmin(vmax(value, low), high));
      }
      if (!clean) ++skipped;
      if (gain_row) {
        const int gj = j - job.gain_x0;
        if (gj >= 0 && gj < job.gain.width) {
          const float g = job.gain.at(gi, gj);
          if (g != 1.0f) shade<P, C>(out, g);
        }
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
  parallel_rows(job.target.height, threads, [&](int r0, int r1) { skipped += run_rows<P, C>(job, r0, r1); });
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

// ---- argument checks: a clear ValueError, never a crash ----

// By kind and size (dtype objects are not singletons: an unpickled array has its own), in native byte order.
bool is_dtype(const py::dtype& dt, char kind, ssize_t size) {
  const char order = dt.byteorder();
  return dt.kind() == kind && dt.itemsize() == size && (order == '=' || order == '|' || order == '<');
}

std::string shape_text(const py::buffer_info& info) {
  std::string text = "(";
  for (size_t k = 0; k < info.shape.size(); ++k) text += (k ? ", " : "") + std::to_string(info.shape[k]);
  return text + (info.shape.size() == 1 ? ",)" : ")");
}

View image_view(const py::buffer_info& info, const char* name) {
  if (info.ndim != 3) throw py::value_error(std::string(name) + " must be (h, w, C), got shape " + shape_text(info));
  if (info.strides[2] != info.itemsize)
    throw py::value_error(std::string(name) + "'s channels must be adjacent in memory");
  View v;
  v.base = static_cast<char*>(info.ptr);
  v.height = static_cast<int>(info.shape[0]);
  v.width = static_cast<int>(info.shape[1]);
  v.channels = static_cast<int>(info.shape[2]);
  v.row_stride = info.strides[0];
  v.pixel_stride = info.strides[1];
  return v;
}

template <class S>
Plane<S> plane(const py::buffer_info& info, const char* name, int height, int width) {
  if (info.ndim != 2 || info.shape[0] != height || info.shape[1] != width)
    throw py::value_error(std::string(name) + " must be (" + std::to_string(height) + ", " + std::to_string(width) +
                          "), got " + shape_text(info));
  if (info.itemsize != static_cast<ssize_t>(sizeof(S)))
    throw py::value_error(std::string(name) + " has the wrong element type (" + info.format + ")");
  Plane<S> p;
  p.base = static_cast<const char*>(info.ptr);
  p.row_stride = info.strides[0];
  p.col_stride = info.strides[1];
  p.height = height;
  p.width = width;
  return p;
}

int64_t resample(py::array target, py::array window, int window_x0, int window_y0, py::array offset_x,
                 py::array offset_y, py::array matte, int region_x0, int region_y0, py::object gain, int gain_x0,
                 int gain_y0, int threads) {
  if (!target.writeable()) throw py::value_error("target must be writable");
  if (target.dtype().kind() != window.dtype().kind() || target.dtype().itemsize() != window.dtype().itemsize())
    throw py::value_error("target and window must have one dtype, got " + std::string(py::str(target.dtype())) +
                          " and " + std::string(py::str(window.dtype())));
  const py::buffer_info t_info = target.request(true), w_info = window.request();
  Job job;
  job.target = image_view(t_info, "target");
  job.window = image_view(w_info, "window");
  if (job.window.channels != job.target.channels)
    throw py::value_error("target and window must have the same channels");
  if (job.window.height < 1 || job.window.width < 1) throw py::value_error("the window is empty");
  job.window_x0 = window_x0;
  job.window_y0 = window_y0;
  job.region_x0 = region_x0;
  job.region_y0 = region_y0;
  const int h = job.target.height, w = job.target.width;
  for (const py::array* a : {&offset_x, &offset_y, &matte}) {
    if (!is_dtype(a->dtype(), 'f', 4)) throw py::value_error("the offsets and the matte must be float32");
  }
  const py::buffer_info ox = offset_x.request(), oy = offset_y.request(), m = matte.request();
  job.offset_x = plane<float>(ox, "offset_x", h, w);
  job.offset_y = plane<float>(oy, "offset_y", h, w);
  job.matte = plane<float>(m, "matte", h, w);
  py::buffer_info g_info;
  if (!gain.is_none()) {
    py::array g = py::array::ensure(gain);
    if (!g || !is_dtype(g.dtype(), 'f', 4)) throw py::value_error("gain must be a float32 array");
    g_info = g.request();
    if (g_info.ndim != 2) throw py::value_error("gain must be (h, w), got " + shape_text(g_info));
    job.gain = plane<float>(g_info, "gain", static_cast<int>(g_info.shape[0]), static_cast<int>(g_info.shape[1]));
    job.shaded = true;
    job.gain_x0 = gain_x0;
    job.gain_y0 = gain_y0;
  }
  const py::dtype type = target.dtype(), window_type = window.dtype();
  int64_t (*kernel)(const Job&, int) = nullptr;
  for (const auto& [kind, size, fn] : {std::tuple{'u', 1, &dispatch_channels<U8>}, std::tuple{'u', 2, &dispatch_channels<U16>},
                                       std::tuple{'f', 2, &dispatch_channels<F16>}, std::tuple{'f', 4, &dispatch_channels<F32>}}) {
    if (is_dtype(type, kind, size) && is_dtype(window_type, kind, size)) kernel = fn;
  }
  if (kernel == nullptr)
    throw py::value_error("plates are uint8, uint16, float16 or float32, got " + std::string(py::str(target.dtype())));
  if (job.target.channels < 1 || job.target.channels > 4)
    throw py::value_error("plates have 1 to 4 channels, got " + std::to_string(job.target.channels));
  py::gil_scoped_release released;
  return kernel(job, std::max(1, threads));
}

// The bounds (low x, low y, high x, high y) of where the edited pixels of a region (top-left at plate pixel
// (x0, y0)) sample the source (sample_position); NaN bounds if one of them is NaN. Reads, writes nothing.
py::tuple sample_bounds(py::array offset_x, py::array offset_y, py::array matte, int x0, int y0, int threads) {
  for (const py::array* a : {&offset_x, &offset_y, &matte}) {
    if (!is_dtype(a->dtype(), 'f', 4)) throw py::value_error("the offsets and the matte must be float32");
  }
  const py::buffer_info m = matte.request(), ox = offset_x.request(), oy = offset_y.request();
  if (m.ndim != 2) throw py::value_error("matte must be (h, w), got " + shape_text(m));
  Job job;
  job.matte = plane<float>(m, "matte", static_cast<int>(m.shape[0]), static_cast<int>(m.shape[1]));
  job.offset_x = plane<float>(ox, "offset_x", job.matte.height, job.matte.width);
  job.offset_y = plane<float>(oy, "offset_y", job.matte.height, job.matte.width);
  job.region_x0 = x0;
  job.region_y0 = y0;
  const float inf = std::numeric_limits<float>::infinity();
  float low_x = inf, low_y = inf, high_x = -inf, high_y = -inf;
  bool nan = false;
  {
    py::gil_scoped_release released;
    std::mutex fold;
    parallel_rows(job.matte.height, threads, [&](int r0, int r1) {
      float lx = inf, ly = inf, hx = -inf, hy = -inf;
      bool band_nan = false;
      // Four pixels at a time where the rows are contiguous (the plan's own arrays), lane by lane the same
      // arithmetic as sample_position; unedited lanes count as +inf / -inf.
      typedef int i4 __attribute__((vector_size(16)));
      const v4 vinf = {inf, inf, inf, inf};
      v4 vlx = vinf, vly = vinf, vhx = -vinf, vhy = -vinf;
      i4 vnan = {0, 0, 0, 0};
      const bool packed = job.matte.col_stride == 4 && job.offset_x.col_stride == 4 && job.offset_y.col_stride == 4;
      const int width = job.matte.width;
      for (int i = r0; i < r1; ++i) {
        int j = 0;
        if (packed) {
          const float gy = static_cast<float>(job.region_y0 + i);
          const v4 vgy = {gy, gy, gy, gy};
          for (; j + 4 <= width; j += 4) {
            v4 m, dx, dy;
            std::memcpy(&m, &job.matte.at(i, j), sizeof m);
            std::memcpy(&dx, &job.offset_x.at(i, j), sizeof dx);
            std::memcpy(&dy, &job.offset_y.at(i, j), sizeof dy);
            const int c = job.region_x0 + j;
            const v4 gx = {static_cast<float>(c), static_cast<float>(c + 1), static_cast<float>(c + 2),
                           static_cast<float>(c + 3)};
            const v4 x = gx + m * dx, y = vgy + m * dy;
            const i4 edited = m > 0.0f;
            vnan |= edited & ((x != x) | (y != y));
            vlx = vmin(vlx, edited ? x : vinf), vhx = vmax(vhx, edited ? x : -vinf);
            vly = vmin(vly, edited ? y : vinf), vhy = vmax(vhy, edited ? y : -vinf);
          }
        }
        for (; j < width; ++j) {
          const float weight = job.matte.at(i, j);
          if (!(weight > 0.0f)) continue;
          float x, y;
          sample_position(job, i, j, weight, &x, &y);
          band_nan |= (x != x) | (y != y);
          lx = std::min(lx, x), hx = std::max(hx, x), ly = std::min(ly, y), hy = std::max(hy, y);
        }
      }
      for (int k = 0; k < 4; ++k) {
        band_nan |= vnan[k] != 0;
        lx = std::min(lx, vlx[k]), hx = std::max(hx, vhx[k]), ly = std::min(ly, vly[k]), hy = std::max(hy, vhy[k]);
      }
      std::lock_guard<std::mutex> lock(fold);
      low_x = std::min(low_x, lx), low_y = std::min(low_y, ly), high_x = std::max(high_x, hx);
      high_y = std::max(high_y, hy), nan = nan || band_nan;
    });
  }
  if (nan) {
    const float q = std::numeric_limits<float>::quiet_NaN();
    return py::make_tuple(q, q, q, q);
  }
  return py::make_tuple(low_x, low_y, high_x, high_y);
}

}  // namespace

PYBIND11_MODULE(_resample, module) {
  module.doc() = "The engine's per-pixel resampling (cpp/engine/resample.cpp); see emotionedit.render.pixels.";
  module.def("resample", &resample, py::arg("target"), py::arg("window"), py::arg("window_x0"), py::arg("window_y0"),
             py::arg("offset_x"), py::arg("offset_y"), py::arg("matte"), py::arg("region_x0"), py::arg("region_y0"),
             py::arg("gain"), py::arg("gain_x0"), py::arg("gain_y0"), py::arg("threads"),
             "Resample target (h, w, C), the output over a region whose top-left is plate pixel (region_x0, "
             "region_y0), from window, whose top-left is plate pixel (window_x0, window_y0): where matte (h, w) "
             "is above 0 the pixel samples itself plus matte times (offset_x, offset_y); then multiply the colour "
             "by gain (float32, its top-left at (gain_x0, gain_y0) of target; None: none). Returns the edited "
             "pixels left as they were because of NaN or inf.");
  module.def("sample_bounds", &sample_bounds, py::arg("offset_x"), py::arg("offset_y"), py::arg("matte"),
             py::arg("x0"), py::arg("y0"), py::arg("threads"),
             "(low x, low y, high x, high y) of where the edited pixels sample the source (NaN if one is NaN).");
  module.def("half_to_float", py::vectorize(half_to_float), "float16 bits (uint16) to float32, as numpy's astype.");
  module.def("float_to_half", py::vectorize(float_to_half), "float32 to float16 bits (uint16), as numpy's astype.");
}
