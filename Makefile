# mabdet: one flat Makefile, darknet style.
#   make [GPU=0|1] [MPI=0|1] [OPENCV=0|1] [OPENMP=0|1] [DNNL=0|1] [DEBUG=0|1]   -> ./mabdet and libmabdet.a
#        GPU=1 also takes CUDNN=0|1 (default 1) and ARCH="sm_80 sm_90" (the GPUs to compile for:
#        nothing is probed, so a machine without a GPU builds it too); MARCH is the host's -march.
#   make test    builds and runs the test suite (doctest + reference scripts; the multi-process
#                cases with an MPI build of mabdet: ./mabdet itself with MPI=1, else
#                BUILD/mabdet-mpi when mpicxx exists)
#   make bench   timings against PyTorch / pycocotools in the same run
#   make torchcheck  the BN classifier runs redone in PyTorch on the same images (slow: 1-2 h)
#   make deps    installs what a fresh Debian 12 machine lacks (apt-get, pip)
#   make sanitize  the test suite on an ASan+UBSan(+LSan) build in build-san/ (reports fail it)
#   make fuzz      libFuzzer targets (fuzz/*.cpp, clang) in build-fuzz/; make fuzz-smoke runs them
GPU    ?= 0
MPI    ?= 0
OPENCV ?= 1
OPENMP ?= 1
DEBUG  ?= 0
FUZZ   ?= 0
# oneDNN (Debian: libdnnl-dev) runs host convolutions; on by default where its header is installed.
DNNL   ?= $(if $(wildcard /usr/include/dnnl.hpp),1,0)
MARCH  ?= -march=native
ARCH   ?= sm_80 sm_90
CUDNN  ?= $(GPU)
BUILD  ?= build

CXX  ?= g++
NVCC ?= nvcc
CXXFLAGS := -std=c++17 -Wall -Wextra -Wno-unused-parameter -Iinclude -Isrc -MMD -MP
LDLIBS   := -lsimdjson -lpthread
# Sanitized builds stop at the first UBSan report too, so a report cannot scroll by in a passing run.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
DEBUG_OPT ?= -O0
ifeq ($(FUZZ),1)
  # The library and targets instrumented for libFuzzer's coverage; each target links the fuzzer.
  CXXFLAGS += -O1 -g $(SAN_FLAGS) -fsanitize=fuzzer-no-link
  LDFLAGS  += $(SAN_FLAGS)
else ifeq ($(DEBUG),1)
  CXXFLAGS += $(DEBUG_OPT) -g $(SAN_FLAGS)
  LDFLAGS  += $(SAN_FLAGS)
else
  CXXFLAGS += -O3 $(MARCH) -g1
endif
ifeq ($(OPENMP),1)
  CXXFLAGS += -fopenmp
  LDFLAGS  += -fopenmp
endif
# OpenBLAS's OpenMP build (Debian: libopenblas-openmp-dev) runs its gemms in the same OpenMP pool as
# mabdet's loops and oneDNN; the pthread build, Debian's default libopenblas, keeps a second pool
# of its own. It is linked by path (and found at run time by rpath) where installed.
BLAS_OMP_DIR := /usr/lib/$(shell $(CXX) -print-multiarch 2>/dev/null)/openblas-openmp
ifeq ($(OPENMP)$(wildcard $(BLAS_OMP_DIR)/libopenblas.so),1$(BLAS_OMP_DIR)/libopenblas.so)
  CXXFLAGS += -I/usr/include/$(shell $(CXX) -print-multiarch)/openblas-openmp
  LDLIBS   += -L$(BLAS_OMP_DIR) -Wl,-rpath,$(BLAS_OMP_DIR) -lopenblas
else
  LDLIBS   += -lopenblas
endif
# OpenCV draws `mabdet detect`'s images and decodes images. Only the three modules used are
# linked: pkg-config's full list drags in highgui, viz and dozens more for nothing.
ifeq ($(OPENCV),1)
  CXXFLAGS += -DMABDET_OPENCV $(shell pkg-config --cflags opencv4)
  LDLIBS   += -lopencv_imgcodecs -lopencv_imgproc -lopencv_core
endif

ifeq ($(DNNL),1)
  CXXFLAGS += -DMABDET_DNNL
  LDLIBS   += -ldnnl
endif

# src/dist/mpi and src/dist/nccl (the MPI and NCCL communicators) and the world each binary
# picks are linked into the binary, not the library: libmabdet.a is the same with MPI=0 and 1.
LIB_SRCS := $(shell find src -name '*.cpp' ! -path 'src/cli/*' ! -path 'src/dist/mpi/*' ! -path 'src/dist/nccl/*' \
              ! -name world_single.cpp | sort)
CLI_SRCS := $(sort $(wildcard src/cli/*.cpp))
TEST_SRCS := $(sort $(wildcard tests/*.cpp))
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.cpp))
CU_SRCS  :=
ifeq ($(GPU),1)
  CUDA_HOME ?= /usr/local/cuda
  CXXFLAGS += -DMABDET_GPU -I$(CUDA_HOME)/include
  # Machine code for each of ARCH, and PTX of the newest for GPUs after it. No FMA contraction,
  # as g++ in ISO -std=c++17 mode on the host: the shared MABDET_HD bodies then round alike.
  NV_GENCODE := $(foreach a,$(ARCH),-gencode arch=compute_$(a:sm_%=%),code=$(a)) \
                -gencode arch=compute_$(lastword $(ARCH:sm_%=%)),code=compute_$(lastword $(ARCH:sm_%=%))
  NVFLAGS  := -std=c++17 -O3 -Iinclude -Isrc -DMABDET_GPU $(NV_GENCODE) --fmad=false -Xcompiler -fPIC -MMD -MP
  LDLIBS   += -L$(CUDA_HOME)/lib64 -lcudart -lcublas
  ifeq ($(CUDNN),1)
    CXXFLAGS += -DMABDET_CUDNN
    NVFLAGS  += -DMABDET_CUDNN
    LDLIBS   += -lcudnn
  endif
  CU_SRCS  := $(shell find src -name '*.cu' | sort)
endif

# MPI: OpenMPI's wrapper says where its headers and libraries are (Debian: libopenmpi-dev).
MPICXX ?= mpicxx
MPI_SRCS := $(sort $(wildcard src/dist/mpi/*.cpp))
ifeq ($(GPU),1)
  MPI_SRCS += $(sort $(wildcard src/dist/nccl/*.cpp))
endif
HAVE_MPICXX := $(shell command -v $(MPICXX) 2>/dev/null)
ifneq ($(HAVE_MPICXX),)
  MPI_CFLAGS := $(shell $(MPICXX) --showme:compile) -DOMPI_SKIP_MPICXX -DMPICH_SKIP_MPICXX  # the C API only
  MPI_LIBS   := $(shell $(MPICXX) --showme:link) $(if $(filter 1,$(GPU)),-lnccl)
else ifeq ($(MPI),1)
  $(error MPI=1 needs $(MPICXX) (Debian: apt-get install libopenmpi-dev, or `make deps`))
endif
MPI_OBJS := $(MPI_SRCS:%.cpp=$(BUILD)/%.o)
$(MPI_OBJS): CXXFLAGS += $(MPI_CFLAGS)

# The default build puts ./mabdet and ./libmabdet.a at the root; another BUILD dir keeps its own.
OUT := $(if $(filter build,$(BUILD)),.,$(BUILD))
BIN := $(OUT)/mabdet
LIB := $(OUT)/libmabdet.a

LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/%.o) $(CU_SRCS:%.cu=$(BUILD)/%.cu.o)
CLI_OBJS  := $(CLI_SRCS:%.cpp=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)

# The world communicator ./mabdet is linked with; a flag file notices a switch of MPI= in the
# same build folder (the objects of both stay; the binary must be relinked).
ifeq ($(MPI),1)
  WORLD_OBJS := $(MPI_OBJS)
  WORLD_LIBS := $(MPI_LIBS)
else
  WORLD_OBJS := $(BUILD)/src/dist/world_single.o
  WORLD_LIBS :=
endif
MPI_FLAG := $(BUILD)/mpi.flag
# The binary the multi-process tests run: ./mabdet in MPI builds, else a second link of the same
# objects with the MPI world when mpicxx is there (seconds, not a second build), else none.
ifeq ($(MPI),1)
  TEST_MPI_BIN := $(BIN)
else ifneq ($(HAVE_MPICXX),)
  TEST_MPI_BIN := $(BUILD)/mabdet-mpi
else
  TEST_MPI_BIN :=
endif

all: $(BIN) $(LIB)

$(MPI_FLAG): FORCE
	@mkdir -p $(BUILD)
	@echo "$(MPI)" | cmp -s - $@ || echo "$(MPI)" > $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(WORLD_OBJS) $(LIB) $(MPI_FLAG)
	$(CXX) $(LDFLAGS) -o $@ $(CLI_OBJS) $(WORLD_OBJS) $(LIB) $(LDLIBS) $(WORLD_LIBS)

$(BUILD)/mabdet-mpi: $(CLI_OBJS) $(MPI_OBJS) $(LIB)
	$(CXX) $(LDFLAGS) -o $@ $(CLI_OBJS) $(MPI_OBJS) $(LIB) $(LDLIBS) $(MPI_LIBS)

$(BUILD)/mabdet_tests: $(TEST_OBJS) $(LIB)
	$(CXX) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIB) $(LDLIBS)

# COCO evaluation must round like pycocotools (built without FMA): a fused multiply-add in polygon
# rasterization, box IoU or the IoU thresholds changes last bits and, at ties, pixels and matches.
$(BUILD)/src/eval/%.o: CXXFLAGS += -ffp-contract=off
# Mask targets map polygons as Detectron2 does in numpy (no FMA), for the same pixels.
$(BUILD)/src/data/mask_target.o: CXXFLAGS += -ffp-contract=off
# Detection box ops follow torchvision's float arithmetic term by term (NMS decisions at the IoU
# threshold, box coding, level assignment at powers of two); a fused multiply-add would change them.
$(BUILD)/src/detect/%.o: CXXFLAGS += -ffp-contract=off

# stb's implementation without two UBSan checks it trips (see src/data/stb_impl.cpp).
$(BUILD)/src/data/stb_impl.o: CXXFLAGS += -fno-sanitize=nonnull-attribute,shift-base

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -c $< -o $@

test: all $(BUILD)/mabdet_tests $(TEST_MPI_BIN)
	MABDET=$(BIN) MABDET_MPI=$(TEST_MPI_BIN) bash scripts/run_tests.sh $(BUILD)/mabdet_tests

# The suite under ASan+UBSan with leak checking, -O1 so that it fits in CI; a sanitizer report makes
# the binary exit non-zero and the run fail. MABDET/MABDET_TESTS point the scripts at these binaries.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
sanitize:
	$(MAKE) DEBUG=1 DEBUG_OPT=-O1 BUILD=build-san build-san/mabdet build-san/mabdet_tests
	$(SAN_ENV) MABDET=build-san/mabdet MABDET_ASAN=1 bash scripts/run_tests.sh build-san/mabdet_tests

# libFuzzer wants clang; OpenMP off so that a run is one deterministic thread. OpenCV off: its
# prebuilt decoders carry no coverage instrumentation, so the image target fuzzes stb_image.
FUZZ_CXX ?= clang++
fuzz:
	$(MAKE) FUZZ=1 OPENMP=0 OPENCV=0 MARCH= CXX=$(FUZZ_CXX) BUILD=build-fuzz fuzz-targets
fuzz-targets: $(FUZZ_SRCS:fuzz/%.cpp=$(BUILD)/%)
$(BUILD)/fuzz_%: fuzz/fuzz_%.cpp fuzz/fuzz_util.h $(LIB)
	$(CXX) $(CXXFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS)
fuzz-smoke: all fuzz
	bash fuzz/smoke.sh

bench: all $(TEST_MPI_BIN)
	MABDET_MPI=$(TEST_MPI_BIN) bash scripts/run_bench.sh

torchcheck: all
	MABDET=$(BIN) bash scripts/torch_claim_check.sh

deps:
	bash scripts/install_deps.sh

lint:
	cppcheck --quiet --std=c++17 -Iinclude -Isrc --enable=warning,performance src

clean:
	rm -rf $(BUILD) build-san build-fuzz mabdet libmabdet.a

.PHONY: FORCE all test sanitize fuzz fuzz-targets fuzz-smoke bench torchcheck deps lint clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
