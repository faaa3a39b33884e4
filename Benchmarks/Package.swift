// swift-tools-version:6.1
// Micro benchmarks (package-benchmark). A nested package so that the main package's build and tests never
// resolve the benchmark framework or its malloc interposer. Run from this folder:
//   swift package --disable-sandbox benchmark
import PackageDescription

let benchmarkTargets = ["Parsers", "Ring", "Writer"]

let package = Package(
    name: "FastPerfBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "FastPerf", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: benchmarkTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                .product(name: "FastPerf", package: "FastPerf"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/\(name)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    }
)
