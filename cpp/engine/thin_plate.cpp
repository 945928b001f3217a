// The thin-plate spline's evaluation at many points (python/emotionedit/render/field.py's tps_evaluate), fused.
//
// A frame's plan evaluates two splines (the displacement field through about 330 control points, the skin detail's
// texture map through about 240) on a grid of a few thousand points. Through numpy that is an (M, N) array of squared
// distances, its logarithms and a matrix product: eight passes over a few megabytes, 4-8 ms a spline on the
// development machine, a third of a 4K frame's plan. Here each point's sum over the controls stays in registers:
// four controls at a time in the lanes of an SSE register, with a logarithm of our own for those lanes (glibc's is
// scalar), accurate to about an ulp.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "thin_plate.h"

namespace py = pybind11;

namespace {

typedef float v4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));

inline v4 splat(float f) { return v4{f, f, f, f}; }

// The natural logarithm of four positive normal floats. x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m =
// 2 atanh(s) with s = (m - 1) / (m + 1), |s| < 0.172, whose series 2 s (1 + s^2/3 + s^4/5 + s^6/7 + s^8/9) is short of
// the true value by under 1e-9 relative; e ln 2 is added in two parts (ln 2's leading bits exact in a float).
inline v4 log4(v4 x) {
  i4 bits;
  std::memcpy(&bits, &x, sizeof bits);
  i4 e = ((bits >> 23) & 0xff) - 127;
  i4 mantissa_bits = (bits & 0x7fffff) | 0x3f800000;  // m in [1, 2)
  v4 m;
  std::memcpy(&m, &mantissa_bits, sizeof m);
  const i4 big = m > splat(1.41421356f);  // -1 where m is past sqrt(2): halve it
  m = big ? m * 0.5f : m;
  e -= big;
  const v4 s = (m - 1.0f) / (m + 1.0f);
  const v4 z = s * s;
  const v4 series = 1.0f + z * (1.0f / 3.0f + z * (1.0f / 5.0f + z * (1.0f / 7.0f + z * (1.0f / 9.0f))));
  const v4 ef = __builtin_convertvector(e, v4);
  return ef * 0.693145752f + ((s + s) * series + ef * 1.42860677e-6f);
}

}  // namespace

py::array_t<float> tps_sums(py::array_t<float, py::array::c_style | py::array::forcecast> points,
                            py::array_t<float, py::array::c_style | py::array::forcecast> control,
                            py::array_t<float, py::array::c_style | py::array::forcecast> weights, int threads) {
  if (points.ndim() != 2 || points.shape(1) != 2) throw py::value_error("points must be (M, 2)");
  if (control.ndim() != 2 || control.shape(1) != 2) throw py::value_error("control must be (N, 2)");
  if (weights.ndim() != 2 || weights.shape(0) != control.shape(0) || weights.shape(1) != 2)
    throw py::value_error("weights must be (N, 2), a row per control point");
  const ptrdiff_t m_count = points.shape(0), n = control.shape(0);
  // The controls and their weights lane by lane, padded to a multiple of four with weight 0 (far off: any finite r2).
  const ptrdiff_t n4 = (n + 3) / 4;
  std::vector<v4> cx(n4, splat(0.0f)), cy(n4, splat(0.0f)), wx(n4, splat(0.0f)), wy(n4, splat(0.0f));
  const float* c = control.data();
  const float* w = weights.data();
  for (ptrdiff_t k = 0; k < n; ++k) {
    cx[k / 4][k % 4] = c[2 * k];
    cy[k / 4][k % 4] = c[2 * k + 1];
    wx[k / 4][k % 4] = w[2 * k];
    wy[k / 4][k % 4] = w[2 * k + 1];
  }
  py::array_t<float> out({m_count, ptrdiff_t{2}});
  const float* p = points.data();
  float* o = out.mutable_data();
  auto rows = [&](ptrdiff_t r0, ptrdiff_t r1) {
    for (ptrdiff_t i = r0; i < r1; ++i) {
      const v4 px = splat(p[2 * i]), py_ = splat(p[2 * i + 1]);
      v4 sx = splat(0.0f), sy = splat(0.0f);
      for (ptrdiff_t k = 0; k < n4; ++k) {
        const v4 dx = px - cx[k], dy = py_ - cy[k];
        const v4 r2 = dx * dx + dy * dy;
        const v4 floor = splat(1e-20f);
        // U(r) = r^2 log r = 0.5 r^2 log r^2; U(0) = 0 (r2 at the floor times a finite log). NaN stays NaN.
        const v4 u = (r2 * 0.5f) * log4(r2 < floor ? floor : r2);
        sx += u * wx[k];
        sy += u * wy[k];
      }
      o[2 * i] = (sx[0] + sx[1]) + (sx[2] + sx[3]);
      o[2 * i + 1] = (sy[0] + sy[1]) + (sy[2] + sy[3]);
    }
  };
  {
    py::gil_scoped_release released;
    threads = static_cast<int>(std::max<ptrdiff_t>(1, std::min<ptrdiff_t>(threads, m_count / 256)));
    std::vector<std::thread> pool;
    const ptrdiff_t step = (m_count + threads - 1) / threads;
    for (int t = 1; t < threads; ++t) pool.emplace_back(rows, t * step, std::min(m_count, (t + 1) * step));
    rows(0, std::min(m_count, step));
    for (auto& t : pool) t.join();
  }
  return out;
}

void define_thin_plate(py::module_& module) {
  module.def("tps_sums", &tps_sums, py::arg("points"), py::arg("control"), py::arg("weights"), py::arg("threads"),
             "(M, 2) float32: at each of points (M, 2), the sum over the control points (N, 2) of U(r) times their "
             "weights (N, 2), U(r) = r^2 log r (0 at r = 0): a thin-plate spline's kernel part, in float32.");
}
