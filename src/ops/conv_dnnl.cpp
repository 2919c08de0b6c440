// oneDNN convolution (see conv_dnnl.h). The primitives pick their own memory layouts (format `any`,
// blocked for the AVX2/AVX-512 kernels); mabdet's plain tensors are reordered in and out. Results
// that accumulate (dx, dw) land in a workspace slice and reach the tensor through a reorder with
// oneDNN's sum post-op, so accumulating costs no extra pass.
#include "ops/conv_dnnl.h"

#include "ops/conv_cudnn.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "mabdet/error.h"

#ifdef MABDET_DNNL
#include <dnnl.hpp>
#endif

namespace mabdet {

ConvPath default_conv_path() {
  static const ConvPath path = [] {
    const char* v = std::getenv("MABDET_CONV");
    if (!v || !*v || std::strcmp(v, "auto") == 0)
      return ops::dnnl_built() || ops::cudnn_built() ? ConvPath::Auto : ConvPath::Reference;
    if (std::strcmp(v, "reference") == 0) return ConvPath::Reference;
    if (std::strcmp(v, "dnnl") == 0) {
      if (!ops::dnnl_built()) fail("MABDET_CONV=dnnl: this mabdet was built without oneDNN (DNNL=1, libdnnl-dev)");
      return ConvPath::Dnnl;
    }
    fail("MABDET_CONV=", v, ": expected auto, dnnl or reference");
  }();
  return path;
}

namespace ops {

bool ConvShape::operator==(const ConvShape& o) const {
  return std::memcmp(this, &o, sizeof(ConvShape)) == 0;
}

bool dnnl_pays(int kernel_area, bool strided, int images, int plane, double macs) {
  if (dnnl_avx512()) return kernel_area > 1 || macs >= 4.0 * (1 << 20);
  if (kernel_area > 1 && plane >= 14 * 14) return true;
  return (kernel_area > 1 || strided) && int64_t(images) * plane >= 2048;
}

#ifdef MABDET_DNNL

bool dnnl_built() { return true; }

bool dnnl_avx512() {
  static const bool wide = [] {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    return (isa & avx512) == avx512;  // the ISA values are nested bit sets
  }();
  return wide;
}

namespace {
using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;
}  // namespace

struct DnnlConv::Impl {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  bool built = false, ok = false;
  ConvShape shape;
  memory::desc user_x, user_w, user_y;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
  dnnl::convolution_backward_weights::primitive_desc bwd_w_pd;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_w;
  bool have_bwd_data = false, have_bwd_w = false;
  Dims strides, dilates, pad_l, pad_r;

  memory::desc any(const Dims& d) const { return memory::desc(d, kF32, Tag::any); }

  void build(const ConvShape& s) {
    if (built && s == shape) return;
    built = true;
    ok = false;
    shape = s;
    have_bwd_data = have_bwd_w = false;
    const int oh = s.out_h(), ow = s.out_w();
    const Dims xd{s.n, s.c, s.h, s.w}, yd{s.n, s.f, oh, ow};
    const Dims wd = s.groups > 1 ? Dims{s.groups, s.f / s.groups, s.c / s.groups, s.kh, s.kw} : Dims{s.f, s.c, s.kh, s.kw};
    user_x = memory::desc(xd, kF32, Tag::nchw);
    user_y = memory::desc(yd, kF32, Tag::nchw);
    user_w = memory::desc(wd, kF32, s.groups > 1 ? Tag::goihw : Tag::oihw);
    strides = {s.stride_h, s.stride_w};
    dilates = {s.dil_h - 1, s.dil_w - 1};
    pad_l = {s.pad_h, s.pad_w};
    // The right/bottom padding that makes oneDNN's output size equal ours (floor division can
    // leave the last input rows unread, which is a smaller, even negative, padding there).
    pad_r = {(oh - 1) * s.stride_h + (s.kh - 1) * s.dil_h + 1 - s.h - s.pad_h,
             (ow - 1) * s.stride_w + (s.kw - 1) * s.dil_w + 1 - s.w - s.pad_w};
    try {
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                        any(xd), any(wd), any(yd), strides, dilates, pad_l, pad_r);
      fwd_pd = dnnl::convolution_forward::primitive_desc(d, eng);
      fwd = dnnl::convolution_forward(fwd_pd);
      ok = true;
    } catch (const dnnl::error&) {
      ok = false;  // no implementation for this shape: the caller's reference path runs it
    }
  }

  // One call's operands: each tensor whose layout differs from the primitive's (and every
  // accumulated output) gets a slice of ctx.workspace, so no layer keeps layout copies between calls.
  struct Operand {
    memory::desc want, user;
    float* ptr;
    bool accumulate;  // outputs only
    memory mem;
  };

  // Binds every operand to memory: the user's tensor where the layouts agree (and an output is
  // overwritten), else a workspace slice; inputs are reordered into their slice.
  void bind(Context& ctx, std::initializer_list<Operand*> inputs, Operand& out) {
    auto needs_copy = [](const Operand& o, bool output) { return o.want != o.user || (output && o.accumulate); };
    constexpr size_t kAlign = 64;
    size_t bytes = 0;
    for (Operand* o : inputs)
      if (needs_copy(*o, false)) bytes += (o->want.get_size() + kAlign - 1) / kAlign * kAlign;
    if (needs_copy(out, true)) bytes += (out.want.get_size() + kAlign - 1) / kAlign * kAlign;
    char* ws = reinterpret_cast<char*>(ctx.workspace((bytes + kAlign) / sizeof(float)));
    ws += (kAlign - reinterpret_cast<uintptr_t>(ws) % kAlign) % kAlign;
    auto slice = [&](const memory::desc& d) {
      memory m(d, eng, ws);
      ws += (d.get_size() + kAlign - 1) / kAlign * kAlign;
      return m;
    };
    for (Operand* o : inputs) {
      memory user(o->user, eng, o->ptr);
      if (!needs_copy(*o, false)) {
        o->mem = user;
        continue;
      }
      o->mem = slice(o->want);
      dnnl::reorder(user, o->mem).execute(strm, user, o->mem);
    }
    out.mem = needs_copy(out, true) ? slice(out.want) : memory(out.user, eng, out.ptr);
  }

  // Moves the output into the user's tensor (adding to it when it accumulates) and waits.
  void finish(Operand& out) {
    if (out.mem.get_data_handle() != out.ptr) {
      memory user(out.user, eng, out.ptr);
      dnnl::primitive_attr attr;
      if (out.accumulate) {
        dnnl::post_ops po;
        po.append_sum(1.f);
        attr.set_post_ops(po);
      }
      dnnl::reorder(dnnl::reorder::primitive_desc(out.mem, user, attr)).execute(strm, out.mem, user);
    }
    strm.wait();
  }

  void ensure_bwd_data() {
    if (have_bwd_data) return;
    const ConvShape& s = shape;
    const Dims xd{s.n, s.c, s.h, s.w}, yd{s.n, s.f, s.out_h(), s.out_w()};
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, any(xd), any(user_w.dims()), any(yd),
                                            strides, dilates, pad_l, pad_r);
    try {
      bwd_data_pd = dnnl::convolution_backward_data::primitive_desc(d, eng, fwd_pd);
      bwd_data = dnnl::convolution_backward_data(bwd_data_pd);
    } catch (const dnnl::error& e) {
      fail("oneDNN has a forward but no backward-data convolution for this shape: ", e.what());
    }
    have_bwd_data = true;
  }

  void ensure_bwd_w() {
    if (have_bwd_w) return;
    const ConvShape& s = shape;
    const Dims xd{s.n, s.c, s.h, s.w}, yd{s.n, s.f, s.out_h(), s.out_w()};
    dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, any(xd), any(user_w.dims()),
                                               any(yd), strides, dilates, pad_l, pad_r);
    try {
      bwd_w_pd = dnnl::convolution_backward_weights::primitive_desc(d, eng, fwd_pd);
      bwd_w = dnnl::convolution_backward_weights(bwd_w_pd);
    } catch (const dnnl::error& e) {
      fail("oneDNN has a forward but no backward-weights convolution for this shape: ", e.what());
    }
    have_bwd_w = true;
  }
};

DnnlConv::DnnlConv() : impl_(std::make_unique<Impl>()) {}
DnnlConv::~DnnlConv() = default;

bool DnnlConv::supports(const ConvShape& s) {
  impl_->build(s);
  return impl_->ok;
}

void DnnlConv::forward(Context& ctx, const ConvShape& s, const float* x, const float* w, float* y, bool accumulate) {
  Impl& m = *impl_;
  m.build(s);
  MABDET_ASSERT(m.ok, "DnnlConv::forward: no oneDNN convolution for this shape");
  Impl::Operand src{m.fwd_pd.src_desc(), m.user_x, const_cast<float*>(x), false, {}};
  Impl::Operand wei{m.fwd_pd.weights_desc(), m.user_w, const_cast<float*>(w), false, {}};
  Impl::Operand dst{m.fwd_pd.dst_desc(), m.user_y, y, accumulate, {}};
  m.bind(ctx, {&src, &wei}, dst);
  m.fwd.execute(m.strm, {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, wei.mem}, {DNNL_ARG_DST, dst.mem}});
  m.finish(dst);
}

void DnnlConv::backward_data(Context& ctx, const ConvShape& s, const float* w, const float* dy, float* dx,
                             bool accumulate) {
  Impl& m = *impl_;
  m.build(s);
  MABDET_ASSERT(m.ok, "DnnlConv::backward_data: no oneDNN convolution for this shape");
  m.ensure_bwd_data();
  Impl::Operand ddst{m.bwd_data_pd.diff_dst_desc(), m.user_y, const_cast<float*>(dy), false, {}};
  Impl::Operand wei{m.bwd_data_pd.weights_desc(), m.user_w, const_cast<float*>(w), false, {}};
  Impl::Operand dsrc{m.bwd_data_pd.diff_src_desc(), m.user_x, dx, accumulate, {}};
  m.bind(ctx, {&ddst, &wei}, dsrc);
  m.bwd_data.execute(m.strm, {{DNNL_ARG_DIFF_DST, ddst.mem}, {DNNL_ARG_WEIGHTS, wei.mem}, {DNNL_ARG_DIFF_SRC, dsrc.mem}});
  m.finish(dsrc);
}

void DnnlConv::backward_weights(Context& ctx, const ConvShape& s, const float* x, const float* dy, float* dw,
                                bool accumulate) {
  Impl& m = *impl_;
  m.build(s);
  MABDET_ASSERT(m.ok, "DnnlConv::backward_weights: no oneDNN convolution for this shape");
  m.ensure_bwd_w();
  Impl::Operand src{m.bwd_w_pd.src_desc(), m.user_x, const_cast<float*>(x), false, {}};
  Impl::Operand ddst{m.bwd_w_pd.diff_dst_desc(), m.user_y, const_cast<float*>(dy), false, {}};
  Impl::Operand dwei{m.bwd_w_pd.diff_weights_desc(), m.user_w, dw, accumulate, {}};
  m.bind(ctx, {&src, &ddst}, dwei);
  m.bwd_w.execute(m.strm, {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DIFF_DST, ddst.mem}, {DNNL_ARG_DIFF_WEIGHTS, dwei.mem}});
  m.finish(dwei);
}

#else  // built without oneDNN: no layer constructs a DnnlConv path (ctx.conv is Reference)

bool dnnl_built() { return false; }
bool dnnl_avx512() { return false; }

struct DnnlConv::Impl {};
DnnlConv::DnnlConv() = default;
DnnlConv::~DnnlConv() = default;
bool DnnlConv::supports(const ConvShape&) { return false; }
void DnnlConv::forward(Context&, const ConvShape&, const float*, const float*, float*, bool) {
  fail("DnnlConv: this mabdet was built without oneDNN (DNNL=1)");
}
void DnnlConv::backward_data(Context&, const ConvShape&, const float*, const float*, float*, bool) {
  fail("DnnlConv: this mabdet was built without oneDNN (DNNL=1)");
}
void DnnlConv::backward_weights(Context&, const ConvShape&, const float*, const float*, float*, bool) {
  fail("DnnlConv: this mabdet was built without oneDNN (DNNL=1)");
}

#endif

}  // namespace ops
}  // namespace mabdet
