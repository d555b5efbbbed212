{
  "targets": [
    {
      "target_name": "latentlab_kernels",
      "sources": ["src/kernels.cc", "src/sgemm.cc", "src/im2col.cc", "src/parallel.cc", "src/elementwise.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-fno-trapping-math", "-fno-math-errno", "-pthread"],
      "cflags_cc!": ["-fno-rtti"],
      "ldflags": ["-pthread"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } }
    }
  ]
}
