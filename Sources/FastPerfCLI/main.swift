import FastPerfCommandLine

// The `fastperf` executable: the command line lives in the FastPerfCommandLine library so that plugin
// packages can run it too (see Examples/CustomPlugin).
FastPerfTool.main()
