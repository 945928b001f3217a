// The thin-plate spline's fused evaluation (thin_plate.cpp), registered in the engine's module by resample.cpp.
#pragma once

#include <pybind11/pybind11.h>

void define_thin_plate(pybind11::module_& module);
