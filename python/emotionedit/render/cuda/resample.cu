// The engine's pixel step on an NVIDIA GPU: cpp/engine/kernel.h's run_rows with one thread per pixel of the
// face's region, so a frame is one kernel launch instead of some sixty torch operations.
//
// Two builds of this one file:
//  - the GPU's: render/gpu_kernel.py hands it to NVRTC (through CuPy) with rule.h pasted in, -DEE_PIXEL and
//    -DEE_CHANNELS for the plate's type, and --fmad=false (no FMA contraction: the float32 operations written
//    here and in rule.h are the CPU kernel's, so the pixels are the CPU's bit for bit);
//  - the CPU's: cpp/engine/resample.cpp includes it with EE_HOST defined and runs resample_pixel over the
//    region, so CI checks this code against the CPU kernel on every commit, without a GPU.
// EE_PIXEL: 0 uint8, 1 uint16, 2 half (its bits), 3 float; EE_CHANNELS: 1 to 4, adjacent in memory.

#ifdef EE_HOST
#define EE_METHOD
#else
#define EE_METHOD __device__
#define EE_FN __device__ inline
#define EE_FLOAT_BITS(f) __float_as_uint(f)
#define EE_BITS_FLOAT(b) __uint_as_float(b)
/* rule.h */  // pasted here by render/gpu_kernel.py (CuPy's cache keys on the source's text, not on its includes)
#endif

// What one launch renders: the region's output pixels (holding the source's on entry), the source window the
// samples read, the plan's compact field, its matte over the region and its gain. Strides are in bytes and may be
// negative (an OpenFX image stored bottom-up: base points at the picture's top row).
struct GpuJob {
  char* target;
  long long target_row, target_pixel;
  int height, width;  // the region's
  const char* window;
  long long window_row, window_pixel;
  int window_height, window_width, window_x0, window_y0;
  Field field;  // where each pixel samples (rule.h)
  const float* matte;  // over the region, contiguous
  int region_x0, region_y0;
  // null: no shading; else gain_channels planes of (gain_height, gain_width) over its rectangle (gain_x0, gain_y0
  // in region pixels), rows contiguous, gain_plane floats apart (a plan makes its colour gains plane by plane)
  const float* gain;
  int gain_channels, gain_height, gain_width, gain_x0, gain_y0;
  long long gain_plane;
  GainGrid gain_grid;  // grid null: none; else the skin detail's gain (rule.h), times the planes' where both are
};

template <int PIXEL>
struct Sample;

template <>
struct Sample<0> {
  typedef unsigned char S;
  static const bool floating = false;
  EE_METHOD static float load(S v) { return static_cast<float>(v); }
  EE_METHOD static S store(float v) { return static_cast<S>(round_saturated(v, 255.0f)); }
};

template <>
struct Sample<1> {
  typedef unsigned short S;
  static const bool floating = false;
  EE_METHOD static float load(S v) { return static_cast<float>(v); }
  EE_METHOD static S store(float v) { return static_cast<S>(round_saturated(v, 65535.0f)); }
};

template <>
struct Sample<2> {
  typedef unsigned short S;
  static const bool floating = true;
  EE_METHOD static float load(S v) { return half_to_float(v); }
  EE_METHOD static S store(float v) { return float_to_half(v); }
};

template <>
struct Sample<3> {
  typedef float S;
  static const bool floating = true;
  EE_METHOD static float load(S v) { return v; }
  EE_METHOD static S store(float v) { return v; }
};

EE_FN float lesser(float a, float b) { return a < b ? a : b; }   // the CPU's vmin, lane by lane
EE_FN float greater(float a, float b) { return a > b ? a : b; }  // vmax

// The region's pixel n (row-major): resampled where the matte is above 0, then shaded. Returns whether it
// was edited but kept its own value because it or its footprint held NaN or inf.
template <int PIXEL, int C>
EE_FN bool resample_pixel(const GpuJob& job, long long n) {
  typedef Sample<PIXEL> P;
  typedef typename P::S S;
  const int i = static_cast<int>(n / job.width);
  const int j = static_cast<int>(n - static_cast<long long>(i) * job.width);
  const float m = job.matte[n];
  if (!(m > 0.0f)) return false;
  S* out = reinterpret_cast<S*>(job.target + i * job.target_row + j * job.target_pixel);
  float dx, dy;
  field_offset(job.field, job.region_x0 + j, job.region_y0 + i, &dx, &dy);
  const float x = static_cast<float>(job.region_x0 + j) + m * dx;
  const float y = static_cast<float>(job.region_y0 + i) + m * dy;
  bool clean = (x - x == 0.0f) && (y - y == 0.0f);
  if (P::floating) {
    for (int c = 0; c < C; ++c) {
      const float own = P::load(out[c]);
      clean = clean && (own - own == 0.0f);
    }
  }
  if (clean) {
    float tx, ty;
    const int ix = split_coordinate(x, &tx) - job.window_x0;
    const int iy = split_coordinate(y, &ty) - job.window_y0;
    float wx[4], wy[4];
    cubic_weights(tx, wx);
    cubic_weights(ty, wy);
    long long cols_at[4];
    for (int k = 0; k < 4; ++k) cols_at[k] = clamp_index(ix - 1 + k, job.window_width) * job.window_pixel;
    float rows[4][C], low[C], high[C];
    for (int r = 0; r < 4; ++r) {
      const char* row = job.window + clamp_index(iy - 1 + r, job.window_height) * job.window_row;
      for (int c = 0; c < C; ++c) {
        const float p0 = P::load(reinterpret_cast<const S*>(row + cols_at[0])[c]);
        const float p1 = P::load(reinterpret_cast<const S*>(row + cols_at[1])[c]);
        const float p2 = P::load(reinterpret_cast<const S*>(row + cols_at[2])[c]);
        const float p3 = P::load(reinterpret_cast<const S*>(row + cols_at[3])[c]);
        rows[r][c] = ((wx[0] * p0 + wx[1] * p1) + wx[2] * p2) + wx[3] * p3;
        if (r == 1) {
          low[c] = lesser(p1, p2);
          high[c] = greater(p1, p2);
        } else if (r == 2) {
          low[c] = lesser(low[c], lesser(p1, p2));
          high[c] = greater(high[c], greater(p1, p2));
        }
      }
    }
    float value[C];
    for (int c = 0; c < C; ++c) {
      value[c] = ((wy[0] * rows[0][c] + wy[1] * rows[1][c]) + wy[2] * rows[2][c]) + wy[3] * rows[3][c];
      // Every sample weighs all 16 pixels (0 * inf is NaN): a finite sum means a finite footprint.
      clean = clean && (value[c] - value[c] == 0.0f);
    }
    if (clean) {
      for (int c = 0; c < C; ++c) out[c] = P::store(lesser(greater(value[c], low[c]), high[c]));
    }
  }
  // The shading, per colour channel: the grid's gain times the planes' (that order in every kernel).
  const int gi = i - job.gain_y0, gj = j - job.gain_x0;
  const bool plane = job.gain && gi >= 0 && gi < job.gain_height && gj >= 0 && gj < job.gain_width;
  const bool grid = job.gain_grid.grid != 0;
  if (grid || plane) {
    const int px = job.region_x0 + j, py = job.region_y0 + i;
    const float* g = plane ? job.gain + static_cast<long long>(gi) * job.gain_width + gj : 0;
    for (int c = 0; c < 3 && c < C; ++c) {
      float gc = 1.0f;
      if (grid) gc = grid_gain(job.gain_grid, px, py, job.gain_grid.channels == 3 ? c : 0);
      if (plane) {
        const float gp = g[job.gain_channels == 3 ? c * job.gain_plane : 0];
        gc = grid ? gc * gp : gp;
      }
      if (gc != 1.0f) out[c] = P::store(P::load(out[c]) * faded_gain(gc, m));
    }
  }
  return !clean;
}

#ifndef EE_HOST
extern "C" __global__ void resample(char* target, long long target_row, long long target_pixel, int height, int width,
                                    const char* window, long long window_row, long long window_pixel,
                                    int window_height, int window_width, int window_x0, int window_y0,
                                    const float* grid, int grid_nx, int grid_ny, float scale_x, float scale_y,
                                    int field_x0, int field_y0, const int* layer_boxes, int layers,
                                    const float* layer_values, const float* matte, int region_x0, int region_y0, const float* gain, int gain_channels, int gain_height,
                                    int gain_width, int gain_x0, int gain_y0, long long gain_plane,
                                    const float* gain_grid, int gain_grid_nx, int gain_grid_ny, int gain_grid_channels,
                                    float gain_grid_scale_x, float gain_grid_scale_y, int gain_grid_x0,
                                    int gain_grid_y0, unsigned long long* skipped) {
  const long long n = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n >= static_cast<long long>(height) * width) return;
  const GpuJob job = {target, target_row, target_pixel, height, width, window, window_row, window_pixel,
                      window_height, window_width, window_x0, window_y0,
                      {grid, grid_nx, grid_ny, scale_x, scale_y, field_x0, field_y0, layer_boxes, layers, layer_values},
                      matte, region_x0, region_y0, gain, gain_channels, gain_height, gain_width, gain_x0, gain_y0, gain_plane,
                      {gain_grid, gain_grid_nx, gain_grid_ny, gain_grid_channels, gain_grid_scale_x, gain_grid_scale_y,
                       gain_grid_x0, gain_grid_y0}};
  if (resample_pixel<EE_PIXEL, EE_CHANNELS>(job, n)) atomicAdd(skipped, 1ULL);
}
#endif
