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
//     nearest even; float32 as is), then the shading gain, faded with the matte (1 + m (g - 1): the plan's gain is
//     made coarse and upsampled, unfaded), multiplies the colour channels (the first three) as
//     python/emotionedit/render/detail.py's shade_into does on the stored value. The skin detail's part comes as
//     a coarse grid interpolated per pixel (rule.h's grid_gain); integer plates' display encoding of it is taken
//     on the grid, before the interpolation (render/shading.py's for_plate), within an 8-bit code of encoding
//     the interpolated gain.
//
// Arithmetic is plain IEEE float32 in a fixed order with no contraction into FMA (-ffp-contract=off), so
// tests/engine/test_resample_kernel.py's numpy transcription of it gives the same bits.
// The work is split into bands of rows over threads, with the GIL released.
//
// This file: the Python module (argument checks that raise ValueError, never crash; the choice of kernel;
// the window's bounds). The rule and its row loop: kernel.h. Half floats on CPUs with F16C: resample_f16c.cpp.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "kernel.h"
#include "thin_plate.h"

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

// The GPU kernel's code, for resample_gpu_code (kernel.h has defined EE_FN and pasted rule.h).
#define EE_HOST
#include "resample.cu"

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

// The field's part of a job: the plan's compact backward map (field.py's Field.arguments(): the (ny, nx, 2) float32
// grid, its scale in cells per pixel, the plate pixel of its region's top-left, the layers' (L, 5) int32 boxes and
// their float32 planes), every index checked here so that no argument can make the kernels read out of bounds. The
// arrays (the caller's tuple keeps them) must be C-contiguous.
// An element of an argument tuple that must already be a numpy array: a cast would convert a list into a temporary
// array, freed on return while the job still points into it.
py::array array_item(const py::tuple& t, std::size_t i, const char* what) {
  if (!py::isinstance<py::array>(t[i])) throw py::value_error(std::string(what) + " must be a numpy array");
  return t[i].cast<py::array>();
}

// A grid's scale (cells per pixel): finite and positive, or the kernels' coordinates would be undefined.
float grid_scale(const py::handle& value, const char* what) {
  const float scale = value.cast<float>();
  if (!(std::isfinite(scale) && scale > 0.0f)) throw py::value_error(std::string(what) + " must be finite and positive");
  return scale;
}

Field make_field(const py::tuple& field) {
  if (field.size() != 7) throw py::value_error("field must be (grid, scale_x, scale_y, x0, y0, boxes, values)");
  const py::array grid = array_item(field, 0, "the field's grid"), boxes = array_item(field, 5, "the field's boxes"),
                  values = array_item(field, 6, "the field's values");
  const auto contiguous = py::array::c_style;
  if (!is_dtype(grid.dtype(), 'f', 4) || grid.ndim() != 3 || grid.shape(2) != 2 || grid.shape(0) < 1 ||
      grid.shape(1) < 1 || !(grid.flags() & contiguous))
    throw py::value_error("the field's grid must be a C-contiguous (ny, nx, 2) float32 array");
  if (!is_dtype(boxes.dtype(), 'i', 4) || boxes.ndim() != 2 || boxes.shape(1) != 5 || !(boxes.flags() & contiguous))
    throw py::value_error("the field's layer boxes must be a C-contiguous (L, 5) int32 array");
  if (!is_dtype(values.dtype(), 'f', 4) || values.ndim() != 1 || !(values.flags() & contiguous))
    throw py::value_error("the field's layer values must be a C-contiguous float32 vector");
  Field f;
  f.grid = static_cast<const float*>(grid.data());
  f.ny = static_cast<int>(grid.shape(0));
  f.nx = static_cast<int>(grid.shape(1));
  f.scale_x = grid_scale(field[1], "the field's scale_x");
  f.scale_y = grid_scale(field[2], "the field's scale_y");
  f.x0 = field[3].cast<int>();
  f.y0 = field[4].cast<int>();
  f.boxes = static_cast<const int*>(boxes.data());
  f.layers = static_cast<int>(boxes.shape(0));
  f.values = static_cast<const float*>(values.data());
  for (int l = 0; l < f.layers; ++l) {
    const int* box = f.boxes + 5 * l;
    const long long size = static_cast<long long>(box[2] - box[0]) * (box[3] - box[1]);
    if (box[2] <= box[0] || box[3] <= box[1] || box[4] < 0 || box[4] + 3 * size > values.shape(0))
      throw py::value_error("layer " + std::to_string(l) + "'s box or planes lie outside the values given");
  }
  return f;
}

// The skin detail's gain grid (shading.py's Shading.grid_arguments(): the (ny, nx, C) float32 grid, C 1 or 3, its
// scale in cells per pixel and the plate pixel of its region's top-left), or None. The array must be C-contiguous.
bool make_gain_grid(const py::object& arguments, GainGrid* out) {
  if (arguments.is_none()) return false;
  const py::tuple t = arguments.cast<py::tuple>();
  if (t.size() != 5) throw py::value_error("gain_grid must be (grid, scale_x, scale_y, x0, y0) or None");
  const py::array grid = array_item(t, 0, "the gain grid");
  if (!is_dtype(grid.dtype(), 'f', 4) || grid.ndim() != 3 || (grid.shape(2) != 1 && grid.shape(2) != 3) ||
      grid.shape(0) < 1 || grid.shape(1) < 1 || !(grid.flags() & py::array::c_style))
    throw py::value_error("the gain grid must be a C-contiguous (ny, nx, 1 or 3) float32 array");
  out->grid = static_cast<const float*>(grid.data());
  out->ny = static_cast<int>(grid.shape(0));
  out->nx = static_cast<int>(grid.shape(1));
  out->channels = static_cast<int>(grid.shape(2));
  out->scale_x = grid_scale(t[1], "the gain grid's scale_x");
  out->scale_y = grid_scale(t[2], "the gain grid's scale_y");
  out->x0 = t[3].cast<int>();
  out->y0 = t[4].cast<int>();
  // Gains are positive finite multipliers: a NaN or inf would spread into the edited pixels.
  const std::size_t count = static_cast<std::size_t>(out->nx) * out->ny * out->channels;
  for (std::size_t n = 0; n < count; ++n)
    if (!(std::isfinite(out->grid[n]) && out->grid[n] > 0.0f))
      throw py::value_error("the gain grid's gains must be finite and positive");
  return true;
}

void set_matte(Job& job, const py::array& matte, int h, int w, int x0, int y0) {
  if (!is_dtype(matte.dtype(), 'f', 4)) throw py::value_error("the matte must be float32");
  job.matte = plane<float>(matte.request(), "matte", h, w);
  job.region_x0 = x0;
  job.region_y0 = y0;
}

// The half-float kernel: with the CPU's F16C conversions where it has them (and this build has that kernel).
using Kernel = int64_t (*)(const Job&, int);
std::atomic<bool> portable_half{false};  // the tests' switch: the portable kernel on any CPU

Kernel half_kernel() {
#if defined(EMOTIONEDIT_F16C)
  static const bool f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  if (f16c && !portable_half) return &emotionedit_kernel::resample_half_f16c;
#endif
  return &dispatch_channels<F16>;
}

// The job of a resample call, its arguments checked, and the CPU kernel for its pixel type.
Job make_job(py::array& target, py::array& window, int window_x0, int window_y0, const py::tuple& field,
             py::array& matte, int region_x0, int region_y0, py::object& gain, int gain_x0,
             int gain_y0, const py::object& gain_grid, Kernel* kernel_out) {
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
  job.field = make_field(field);
  set_matte(job, matte, job.target.height, job.target.width, region_x0, region_y0);
  if (!gain.is_none()) {
    py::array g = py::array::ensure(gain);
    if (!g || !is_dtype(g.dtype(), 'f', 4)) throw py::value_error("gain must be a float32 array");
    const py::buffer_info g_info = g.request();
    const bool per_channel = g_info.ndim == 3 && g_info.shape[2] == 3;
    if (g_info.ndim != 2 && !per_channel)
      throw py::value_error("gain must be (h, w) or (h, w, 3), got " + shape_text(g_info));
    if (per_channel && job.target.channels < 3)
      throw py::value_error("a gain per colour channel needs a plate with three or more channels");
    // Channel 0 of the gain is an (h, w) plane like a single gain; the others lie a channel stride on.
    job.gain.base = static_cast<const char*>(g_info.ptr);
    job.gain.row_stride = g_info.strides[0];
    job.gain.col_stride = g_info.strides[1];
    job.gain.height = static_cast<int>(g_info.shape[0]);
    job.gain.width = static_cast<int>(g_info.shape[1]);
    job.gain_channels = per_channel ? 3 : 1;
    job.gain_channel_stride = per_channel ? g_info.strides[2] : 0;
    job.shaded = true;
    job.gain_x0 = gain_x0;
    job.gain_y0 = gain_y0;
  }
  job.grid_shaded = make_gain_grid(gain_grid, &job.gain_grid);
  if (job.grid_shaded && job.gain_grid.channels == 3 && job.target.channels < 3)
    throw py::value_error("a gain per colour channel needs a plate with three or more channels");
  const py::dtype type = target.dtype(), window_type = window.dtype();
  Kernel kernel = nullptr;
  for (const auto& [kind, size, fn] : {std::tuple{'u', 1, &dispatch_channels<U8>}, std::tuple{'u', 2, &dispatch_channels<U16>},
                                       std::tuple{'f', 2, half_kernel()}, std::tuple{'f', 4, &dispatch_channels<F32>}}) {
    if (is_dtype(type, kind, size) && is_dtype(window_type, kind, size)) kernel = fn;
  }
  if (kernel == nullptr)
    throw py::value_error("plates are uint8, uint16, float16 or float32, got " + std::string(py::str(target.dtype())));
  if (job.target.channels < 1 || job.target.channels > 4)
    throw py::value_error("plates have 1 to 4 channels, got " + std::to_string(job.target.channels));
  *kernel_out = kernel;
  return job;
}

int64_t resample(py::array target, py::array window, int window_x0, int window_y0, py::tuple field,
                 py::array matte, int region_x0, int region_y0, py::object gain, int gain_x0,
                 int gain_y0, int threads, py::object gain_grid) {
  Kernel kernel = nullptr;
  const Job job = make_job(target, window, window_x0, window_y0, field, matte, region_x0, region_y0, gain,
                           gain_x0, gain_y0, gain_grid, &kernel);
  py::gil_scoped_release released;
  return kernel(job, std::max(1, threads));
}

// The GPU kernel's code (python/emotionedit/render/cuda/resample.cu) run here, pixel by pixel on the calling
// thread: CI's check that the code a GPU compiles gives the CPU kernel's pixels. The planes must be contiguous,
// as the GPU path hands them over.
template <int PIXEL, int C>
int64_t run_gpu_code(const GpuJob& job) {
  int64_t skipped = 0;
  const long long count = static_cast<long long>(job.height) * job.width;
  for (long long n = 0; n < count; ++n) skipped += resample_pixel<PIXEL, C>(job, n) ? 1 : 0;
  return skipped;
}

template <int PIXEL>
int64_t run_gpu_code_channels(const GpuJob& job, int channels) {
  switch (channels) {
    case 1: return run_gpu_code<PIXEL, 1>(job);
    case 2: return run_gpu_code<PIXEL, 2>(job);
    case 3: return run_gpu_code<PIXEL, 3>(job);
    default: return run_gpu_code<PIXEL, 4>(job);
  }
}

bool contiguous(const Plane<float>& p) {
  return p.col_stride == static_cast<ptrdiff_t>(sizeof(float)) && p.row_stride == p.col_stride * p.width;
}

int64_t resample_gpu_code(py::array target, py::array window, int window_x0, int window_y0, py::tuple field,
                          py::array matte, int region_x0, int region_y0, py::object gain,
                          int gain_x0, int gain_y0, py::object gain_grid) {
  Kernel kernel = nullptr;
  const Job job = make_job(target, window, window_x0, window_y0, field, matte, region_x0, region_y0, gain,
                           gain_x0, gain_y0, gain_grid, &kernel);
  if (!contiguous(job.matte)) throw py::value_error("the matte must be C-contiguous");
  if (job.shaded && (!contiguous(job.gain) || job.gain_channel_stride % static_cast<ptrdiff_t>(sizeof(float))))
    throw py::value_error("gain's planes must be C-contiguous (a (3, h, w) array seen as (h, w, 3), or (h, w))");
  const GpuJob gpu = {job.target.base, job.target.row_stride, job.target.pixel_stride, job.target.height,
                      job.target.width, job.window.base, job.window.row_stride, job.window.pixel_stride,
                      job.window.height, job.window.width, job.window_x0, job.window_y0,
                      job.field, reinterpret_cast<const float*>(job.matte.base), job.region_x0, job.region_y0,
                      job.shaded ? reinterpret_cast<const float*>(job.gain.base) : nullptr, job.gain_channels,
                      job.gain.height, job.gain.width, job.gain_x0, job.gain_y0,
                      static_cast<long long>(job.gain_channel_stride / static_cast<ptrdiff_t>(sizeof(float))),
                      job.grid_shaded ? job.gain_grid : GainGrid{nullptr, 1, 1, 1, 1.0f, 1.0f, 0, 0}};
  const py::dtype type = target.dtype();
  const int channels = job.target.channels;
  py::gil_scoped_release released;
  if (is_dtype(type, 'u', 1)) return run_gpu_code_channels<0>(gpu, channels);
  if (is_dtype(type, 'u', 2)) return run_gpu_code_channels<1>(gpu, channels);
  if (is_dtype(type, 'f', 2)) return run_gpu_code_channels<2>(gpu, channels);
  return run_gpu_code_channels<3>(gpu, channels);
}

// The field's displacements over a region (h x w from plate pixel (x0, y0)): what the kernels compute per pixel,
// spelled out (for the torch operations' path and for inspection).
py::tuple expand_field(py::tuple field, int x0, int y0, int height, int width, int threads) {
  const Field f = make_field(field);
  if (height < 0 || width < 0) throw py::value_error("the region's size must not be negative");
  py::array_t<float> dx({height, width}), dy({height, width});
  float* px = dx.mutable_data();
  float* py_ = dy.mutable_data();
  {
    py::gil_scoped_release released;
    parallel_rows(height, std::max(1, threads), [&](int r0, int r1) {
      for (int i = r0; i < r1; ++i) {
        for (int j = 0; j < width; ++j) {
          const long long n = static_cast<long long>(i) * width + j;
          field_offset(f, x0 + j, y0 + i, px + n, py_ + n);
        }
      }
    });
  }
  return py::make_tuple(dx, dy);
}

// The gain grid's gains over a region (h x w from plate pixel (x0, y0)), (h, w, C): what the kernels compute per
// pixel, spelled out (for the torch operations' path and for inspection).
py::array_t<float> expand_gain(py::object gain_grid, int x0, int y0, int height, int width, int threads) {
  GainGrid g;
  if (!make_gain_grid(gain_grid, &g)) throw py::value_error("no gain grid given");
  if (height < 0 || width < 0) throw py::value_error("the region's size must not be negative");
  py::array_t<float> out({height, width, g.channels});
  float* o = out.mutable_data();
  {
    py::gil_scoped_release released;
    parallel_rows(height, std::max(1, threads), [&](int r0, int r1) {
      for (int i = r0; i < r1; ++i)
        for (int j = 0; j < width; ++j)
          for (int k = 0; k < g.channels; ++k)
            o[(static_cast<long long>(i) * width + j) * g.channels + k] = grid_gain(g, x0 + j, y0 + i, k);
    });
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_resample, module) {
  module.doc() = "The engine's per-pixel resampling (cpp/engine/resample.cpp); see emotionedit.render.pixels.";
  module.def("resample", &resample, py::arg("target"), py::arg("window"), py::arg("window_x0"), py::arg("window_y0"),
             py::arg("field"), py::arg("matte"), py::arg("region_x0"), py::arg("region_y0"), py::arg("gain"),
             py::arg("gain_x0"), py::arg("gain_y0"), py::arg("threads"), py::arg("gain_grid") = py::none(),
             "Resample target (h, w, C), the output over a region whose top-left is plate pixel (region_x0, "
             "region_y0), from window, whose top-left is plate pixel (window_x0, window_y0): where matte (h, w) "
             "is above 0 the pixel samples itself plus matte times the field's displacement there (field: "
             "Field.arguments(), the compact backward map); then multiply the colour by gain (float32 (h, w), or "
             "(h, w, 3) one per colour channel, its top-left at (gain_x0, gain_y0) of target; None: none) and by gain_grid's (the "
             "skin detail's coarse grid, Shading.grid_arguments(); None: none), grid first, each faded with the matte. Returns "
             "the edited pixels left as they were because of NaN or inf.");
  module.def("resample_gpu_code", &resample_gpu_code, py::arg("target"), py::arg("window"), py::arg("window_x0"),
             py::arg("window_y0"), py::arg("field"), py::arg("matte"), py::arg("region_x0"), py::arg("region_y0"),
             py::arg("gain"), py::arg("gain_x0"), py::arg("gain_y0"), py::arg("gain_grid") = py::none(),
             "resample, computed by the GPU kernel's code (render/cuda/resample.cu) on one CPU thread; the "
             "matte and gain planes C-contiguous. For checking that code against the CPU kernel where there is no GPU.");
  module.def("expand_field", &expand_field, py::arg("field"), py::arg("x0"), py::arg("y0"), py::arg("height"),
             py::arg("width"), py::arg("threads"),
             "(dx, dy), each (height, width) float32: the field's displacement at every pixel of the region whose "
             "top-left is plate pixel (x0, y0), as the kernels compute it.");
  module.def("expand_gain", &expand_gain, py::arg("gain_grid"), py::arg("x0"), py::arg("y0"), py::arg("height"),
             py::arg("width"), py::arg("threads"),
             "(height, width, C) float32: the gain grid's gains at every pixel of the region whose top-left is plate "
             "pixel (x0, y0), as the kernels compute them.");
  module.def("half_kernel", []() {
    return std::string(half_kernel() == &dispatch_channels<F16> ? "portable" : "f16c");
  }, "Which kernel renders half-float plates on this CPU: 'f16c' or 'portable'.");
  module.def("use_portable_half", [](bool portable) { portable_half = portable; }, py::arg("portable"),
             "Render half-float plates with the portable kernel even where F16C is there (to test and compare it).");
  define_thin_plate(module);
  module.def("half_to_float", py::vectorize(half_to_float), "float16 bits (uint16) to float32, as numpy's astype.");
  module.def("float_to_half", py::vectorize(float_to_half), "float32 to float16 bits (uint16), as numpy's astype.");
}
