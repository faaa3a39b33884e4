// swift-tools-version:6.0
import PackageDescription

// A package that adds its own API and dataset plugins to FastPerf and runs the `fastperf` command line with
// them (DESIGN §6). It depends on FastPerf by path; `name:` keeps the dependency's identity `FastPerf`
// whatever the checkout's folder is called.
let package = Package(
    name: "CustomPlugin",
    dependencies: [
        .package(name: "FastPerf", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "custom-perf",
            dependencies: [
                .product(name: "FastPerf", package: "FastPerf"),
                .product(name: "FastPerfCommandLine", package: "FastPerf"),
            ]
        ),
    ]
)
