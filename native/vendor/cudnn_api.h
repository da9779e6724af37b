// The few cuDNN 9 types, enum values and C functions jtrain uses, declared here because the build
// machines have no cuDNN headers (docs/architecture.md, section 2). Everything is resolved
// at run time with dlsym (native/vendor/cudnn_ops.cpp); nothing here links against cuDNN.
//
// Values checked against the cuDNN 9.6 headers (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h): the enum
// values below have been stable since cuDNN 7 except the status codes, which cuDNN 9 renumbered
// (categories of 1000: 1xxx not initialised / version, 2xxx bad parameter, 3xxx not supported,
// 4xxx internal, 5xxx execution failed). Every function used here is part of the "legacy" API that
// cuDNN 9 marks deprecated but still ships.
//
// Where each symbol lives (cuDNN 9 splits the library; libcudnn.so.9 is a small shim that dlopens
// the sub-libraries by soname and aborts the process when one cannot be found, so jtrain opens the
// sub-libraries itself, from the shim's folder, and resolves each symbol from the library that owns it):
//   libcudnn_graph.so.9   cudnnGetVersion, cudnnCreate, cudnnDestroy, cudnnSetStream, cudnnGetErrorString,
//                         cudnnGraphVersionCheck
//   libcudnn_ops.so.9     tensor / filter / activation / pooling descriptors, cudnnSetTensor, cudnnAddTensor,
//                         cudnnActivationForward/Backward, cudnnPoolingForward/Backward,
//                         cudnnBatchNormalizationForwardTraining/ForwardInference/Backward, cudnnOpsVersionCheck
//   libcudnn_cnn.so.9     convolution descriptor, cudnnSetConvolutionMathType,
//                         cudnnGetConvolution{Forward,BackwardData,BackwardFilter}Algorithm_v7 and
//                         ...WorkspaceSize, cudnnConvolutionForward/BackwardData/BackwardFilter/BackwardBias,
//                         cudnnCnnVersionCheck
// and the convolution engines in libcudnn_engines_precompiled.so.9 / libcudnn_engines_runtime_compiled.so.9
// / libcudnn_heuristic.so.9, which cuDNN loads itself (jtrain pre-opens them from the same folder so that
// cuDNN's own dlopen by soname finds them).
#pragma once

#include <stddef.h>

#include "common.cuh"  // cudaStream_t

extern "C" {

typedef struct cudnnContext* cudnnHandle_t;
typedef struct cudnnTensorStruct* cudnnTensorDescriptor_t;
typedef struct cudnnFilterStruct* cudnnFilterDescriptor_t;
typedef struct cudnnConvolutionStruct* cudnnConvolutionDescriptor_t;
typedef struct cudnnActivationStruct* cudnnActivationDescriptor_t;
typedef struct cudnnPoolingStruct* cudnnPoolingDescriptor_t;

// Every enum below is a C enum, passed as int.
typedef int cudnnStatus_t;
typedef int cudnnDataType_t;
typedef int cudnnTensorFormat_t;
typedef int cudnnConvolutionMode_t;
typedef int cudnnMathType_t;
typedef int cudnnNanPropagation_t;
typedef int cudnnActivationMode_t;
typedef int cudnnPoolingMode_t;
typedef int cudnnBatchNormMode_t;
typedef int cudnnConvolutionFwdAlgo_t;
typedef int cudnnConvolutionBwdDataAlgo_t;
typedef int cudnnConvolutionBwdFilterAlgo_t;
typedef int cudnnDeterminism_t;

// The algorithm perf records returned by the *_v7 heuristics (same layout for the three kinds):
// enum algo; enum status; float time; size_t memory; enum determinism; enum mathType; int reserved[3].
typedef struct {
    int algo;
    cudnnStatus_t status;
    float time;
    size_t memory;
    cudnnDeterminism_t determinism;
    cudnnMathType_t mathType;
    int reserved[3];
} jt_cudnnAlgoPerf_t;
static_assert(sizeof(jt_cudnnAlgoPerf_t) == 48, "cudnnConvolution*AlgoPerf_t is 48 bytes on LP64");

// ---- graph (libcudnn_graph.so.9)
typedef cudnnStatus_t (*cudnnCreate_fn)(cudnnHandle_t*);
typedef cudnnStatus_t (*cudnnDestroy_fn)(cudnnHandle_t);
typedef cudnnStatus_t (*cudnnSetStream_fn)(cudnnHandle_t, cudaStream_t);
typedef cudnnStatus_t (*cudnnVersionCheck_fn)(void);  // cudnnGraph/Ops/CnnVersionCheck

// ---- ops (libcudnn_ops.so.9)
typedef cudnnStatus_t (*cudnnCreateTensorDescriptor_fn)(cudnnTensorDescriptor_t*);
typedef cudnnStatus_t (*cudnnSetTensor4dDescriptor_fn)(cudnnTensorDescriptor_t, cudnnTensorFormat_t format,
                                                       cudnnDataType_t dataType, int n, int c, int h, int w);
typedef cudnnStatus_t (*cudnnDestroyTensorDescriptor_fn)(cudnnTensorDescriptor_t);
typedef cudnnStatus_t (*cudnnCreateFilterDescriptor_fn)(cudnnFilterDescriptor_t*);
// Note the argument order: data type before format here, format before data type for tensors.
typedef cudnnStatus_t (*cudnnSetFilter4dDescriptor_fn)(cudnnFilterDescriptor_t, cudnnDataType_t dataType,
                                                       cudnnTensorFormat_t format, int k, int c, int h, int w);
typedef cudnnStatus_t (*cudnnDestroyFilterDescriptor_fn)(cudnnFilterDescriptor_t);
typedef cudnnStatus_t (*cudnnSetTensor_fn)(cudnnHandle_t, cudnnTensorDescriptor_t, void* y, const void* value);
typedef cudnnStatus_t (*cudnnAddTensor_fn)(cudnnHandle_t, const void* alpha, cudnnTensorDescriptor_t aDesc,
                                           const void* A, const void* beta, cudnnTensorDescriptor_t cDesc, void* C);
typedef cudnnStatus_t (*cudnnCreateActivationDescriptor_fn)(cudnnActivationDescriptor_t*);
typedef cudnnStatus_t (*cudnnSetActivationDescriptor_fn)(cudnnActivationDescriptor_t, cudnnActivationMode_t mode,
                                                         cudnnNanPropagation_t reluNanOpt, double coef);
typedef cudnnStatus_t (*cudnnDestroyActivationDescriptor_fn)(cudnnActivationDescriptor_t);
typedef cudnnStatus_t (*cudnnActivationForward_fn)(cudnnHandle_t, cudnnActivationDescriptor_t, const void* alpha,
                                                   cudnnTensorDescriptor_t xDesc, const void* x, const void* beta,
                                                   cudnnTensorDescriptor_t yDesc, void* y);
typedef cudnnStatus_t (*cudnnActivationBackward_fn)(cudnnHandle_t, cudnnActivationDescriptor_t, const void* alpha,
                                                    cudnnTensorDescriptor_t yDesc, const void* y,
                                                    cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                    cudnnTensorDescriptor_t xDesc, const void* x, const void* beta,
                                                    cudnnTensorDescriptor_t dxDesc, void* dx);
typedef cudnnStatus_t (*cudnnCreatePoolingDescriptor_fn)(cudnnPoolingDescriptor_t*);
typedef cudnnStatus_t (*cudnnSetPooling2dDescriptor_fn)(cudnnPoolingDescriptor_t, cudnnPoolingMode_t mode,
                                                        cudnnNanPropagation_t maxpoolingNanOpt, int windowHeight,
                                                        int windowWidth, int verticalPadding, int horizontalPadding,
                                                        int verticalStride, int horizontalStride);
typedef cudnnStatus_t (*cudnnDestroyPoolingDescriptor_fn)(cudnnPoolingDescriptor_t);
typedef cudnnStatus_t (*cudnnPoolingForward_fn)(cudnnHandle_t, cudnnPoolingDescriptor_t, const void* alpha,
                                                cudnnTensorDescriptor_t xDesc, const void* x, const void* beta,
                                                cudnnTensorDescriptor_t yDesc, void* y);
typedef cudnnStatus_t (*cudnnPoolingBackward_fn)(cudnnHandle_t, cudnnPoolingDescriptor_t, const void* alpha,
                                                 cudnnTensorDescriptor_t yDesc, const void* y,
                                                 cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                 cudnnTensorDescriptor_t xDesc, const void* x, const void* beta,
                                                 cudnnTensorDescriptor_t dxDesc, void* dx);
typedef cudnnStatus_t (*cudnnBatchNormalizationForwardTraining_fn)(
    cudnnHandle_t, cudnnBatchNormMode_t mode, const void* alpha, const void* beta, cudnnTensorDescriptor_t xDesc,
    const void* x, cudnnTensorDescriptor_t yDesc, void* y, cudnnTensorDescriptor_t bnScaleBiasMeanVarDesc,
    const void* bnScale, const void* bnBias, double exponentialAverageFactor, void* resultRunningMean,
    void* resultRunningVariance, double epsilon, void* resultSaveMean, void* resultSaveInvVariance);
typedef cudnnStatus_t (*cudnnBatchNormalizationForwardInference_fn)(
    cudnnHandle_t, cudnnBatchNormMode_t mode, const void* alpha, const void* beta, cudnnTensorDescriptor_t xDesc,
    const void* x, cudnnTensorDescriptor_t yDesc, void* y, cudnnTensorDescriptor_t bnScaleBiasMeanVarDesc,
    const void* bnScale, const void* bnBias, const void* estimatedMean, const void* estimatedVariance,
    double epsilon);
typedef cudnnStatus_t (*cudnnBatchNormalizationBackward_fn)(
    cudnnHandle_t, cudnnBatchNormMode_t mode, const void* alphaDataDiff, const void* betaDataDiff,
    const void* alphaParamDiff, const void* betaParamDiff, cudnnTensorDescriptor_t xDesc, const void* x,
    cudnnTensorDescriptor_t dyDesc, const void* dy, cudnnTensorDescriptor_t dxDesc, void* dx,
    cudnnTensorDescriptor_t dBnScaleBiasDesc, const void* bnScale, void* dBnScaleResult, void* dBnBiasResult,
    double epsilon, const void* savedMean, const void* savedInvVariance);

// ---- cnn (libcudnn_cnn.so.9)
typedef cudnnStatus_t (*cudnnCreateConvolutionDescriptor_fn)(cudnnConvolutionDescriptor_t*);
typedef cudnnStatus_t (*cudnnDestroyConvolutionDescriptor_fn)(cudnnConvolutionDescriptor_t);
typedef cudnnStatus_t (*cudnnSetConvolution2dDescriptor_fn)(cudnnConvolutionDescriptor_t, int pad_h, int pad_w,
                                                            int u, int v, int dilation_h, int dilation_w,
                                                            cudnnConvolutionMode_t mode,
                                                            cudnnDataType_t computeType);
typedef cudnnStatus_t (*cudnnSetConvolutionMathType_fn)(cudnnConvolutionDescriptor_t, cudnnMathType_t);
typedef cudnnStatus_t (*cudnnGetConvolutionForwardAlgorithm_v7_fn)(cudnnHandle_t, cudnnTensorDescriptor_t xDesc,
                                                                   cudnnFilterDescriptor_t wDesc,
                                                                   cudnnConvolutionDescriptor_t,
                                                                   cudnnTensorDescriptor_t yDesc, int requested,
                                                                   int* returned, jt_cudnnAlgoPerf_t* perf);
typedef cudnnStatus_t (*cudnnGetConvolutionBackwardDataAlgorithm_v7_fn)(cudnnHandle_t, cudnnFilterDescriptor_t wDesc,
                                                                        cudnnTensorDescriptor_t dyDesc,
                                                                        cudnnConvolutionDescriptor_t,
                                                                        cudnnTensorDescriptor_t dxDesc, int requested,
                                                                        int* returned, jt_cudnnAlgoPerf_t* perf);
typedef cudnnStatus_t (*cudnnGetConvolutionBackwardFilterAlgorithm_v7_fn)(cudnnHandle_t,
                                                                          cudnnTensorDescriptor_t xDesc,
                                                                          cudnnTensorDescriptor_t dyDesc,
                                                                          cudnnConvolutionDescriptor_t,
                                                                          cudnnFilterDescriptor_t dwDesc,
                                                                          int requested, int* returned,
                                                                          jt_cudnnAlgoPerf_t* perf);
typedef cudnnStatus_t (*cudnnGetConvolutionForwardWorkspaceSize_fn)(cudnnHandle_t, cudnnTensorDescriptor_t xDesc,
                                                                    cudnnFilterDescriptor_t wDesc,
                                                                    cudnnConvolutionDescriptor_t,
                                                                    cudnnTensorDescriptor_t yDesc,
                                                                    cudnnConvolutionFwdAlgo_t, size_t* bytes);
typedef cudnnStatus_t (*cudnnGetConvolutionBackwardDataWorkspaceSize_fn)(cudnnHandle_t,
                                                                         cudnnFilterDescriptor_t wDesc,
                                                                         cudnnTensorDescriptor_t dyDesc,
                                                                         cudnnConvolutionDescriptor_t,
                                                                         cudnnTensorDescriptor_t dxDesc,
                                                                         cudnnConvolutionBwdDataAlgo_t,
                                                                         size_t* bytes);
typedef cudnnStatus_t (*cudnnGetConvolutionBackwardFilterWorkspaceSize_fn)(cudnnHandle_t,
                                                                           cudnnTensorDescriptor_t xDesc,
                                                                           cudnnTensorDescriptor_t dyDesc,
                                                                           cudnnConvolutionDescriptor_t,
                                                                           cudnnFilterDescriptor_t dwDesc,
                                                                           cudnnConvolutionBwdFilterAlgo_t,
                                                                           size_t* bytes);
typedef cudnnStatus_t (*cudnnConvolutionForward_fn)(cudnnHandle_t, const void* alpha, cudnnTensorDescriptor_t xDesc,
                                                    const void* x, cudnnFilterDescriptor_t wDesc, const void* w,
                                                    cudnnConvolutionDescriptor_t, cudnnConvolutionFwdAlgo_t,
                                                    void* workSpace, size_t workSpaceBytes, const void* beta,
                                                    cudnnTensorDescriptor_t yDesc, void* y);
typedef cudnnStatus_t (*cudnnConvolutionBackwardData_fn)(cudnnHandle_t, const void* alpha,
                                                         cudnnFilterDescriptor_t wDesc, const void* w,
                                                         cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                         cudnnConvolutionDescriptor_t, cudnnConvolutionBwdDataAlgo_t,
                                                         void* workSpace, size_t workSpaceBytes, const void* beta,
                                                         cudnnTensorDescriptor_t dxDesc, void* dx);
typedef cudnnStatus_t (*cudnnConvolutionBackwardFilter_fn)(cudnnHandle_t, const void* alpha,
                                                           cudnnTensorDescriptor_t xDesc, const void* x,
                                                           cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                           cudnnConvolutionDescriptor_t,
                                                           cudnnConvolutionBwdFilterAlgo_t, void* workSpace,
                                                           size_t workSpaceBytes, const void* beta,
                                                           cudnnFilterDescriptor_t dwDesc, void* dw);
typedef cudnnStatus_t (*cudnnConvolutionBackwardBias_fn)(cudnnHandle_t, const void* alpha,
                                                         cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                         const void* beta, cudnnTensorDescriptor_t dbDesc, void* db);

}  // extern "C"

// Enum values (cuDNN 9.6 headers; see the top of this file).
enum : int {
    JT_CUDNN_STATUS_SUCCESS = 0,
    JT_CUDNN_STATUS_NOT_SUPPORTED = 3000,  // 3000..3999: "not supported" family (try another algorithm)

    JT_CUDNN_DATA_FLOAT = 0,
    JT_CUDNN_TENSOR_NCHW = 0,

    JT_CUDNN_CONVOLUTION = 0,
    JT_CUDNN_CROSS_CORRELATION = 1,  // what deep learning calls convolution (PyTorch's conv2d)

    JT_CUDNN_DEFAULT_MATH = 0,       // allows TF32 tensor cores for FP32 data on Ampere and later
    JT_CUDNN_TENSOR_OP_MATH = 1,
    JT_CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2,
    JT_CUDNN_FMA_MATH = 3,           // FMA kernels only: FP32 stays FP32 (TF32 off), what jtrain compares with

    JT_CUDNN_NOT_PROPAGATE_NAN = 0,
    JT_CUDNN_PROPAGATE_NAN = 1,

    JT_CUDNN_ACTIVATION_SIGMOID = 0,
    JT_CUDNN_ACTIVATION_RELU = 1,
    JT_CUDNN_ACTIVATION_TANH = 2,
    JT_CUDNN_ACTIVATION_CLIPPED_RELU = 3,
    JT_CUDNN_ACTIVATION_ELU = 4,
    JT_CUDNN_ACTIVATION_IDENTITY = 5,
    JT_CUDNN_ACTIVATION_SWISH = 6,

    JT_CUDNN_POOLING_MAX = 0,
    JT_CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING = 1,
    JT_CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING = 2,
    JT_CUDNN_POOLING_MAX_DETERMINISTIC = 3,

    JT_CUDNN_BATCHNORM_PER_ACTIVATION = 0,
    JT_CUDNN_BATCHNORM_SPATIAL = 1,
    JT_CUDNN_BATCHNORM_SPATIAL_PERSISTENT = 2,

    JT_CUDNN_CONVOLUTION_FWD_ALGO_COUNT = 8,
    JT_CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT = 6,
    JT_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT = 7,
};

// CUDNN_BN_MIN_EPSILON: 0.0 in cuDNN 9 (1e-5 before cuDNN 7.5); cuDNN rejects a smaller epsilon.
#define JT_CUDNN_BN_MIN_EPSILON 0.0
