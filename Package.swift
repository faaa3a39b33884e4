// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "FastPerf",
    products: [
        .library(name: "FastPerf", targets: ["FastPerf"]),
        // The `fastperf` command line, for packages that register their own plugins (Examples/CustomPlugin).
        .library(name: "FastPerfCommandLine", targets: ["FastPerfCommandLine"]),
        .executable(name: "fastperf", targets: ["FastPerfCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        // 0.2.0 adds Histogram.add(_:) for merging per-loop histograms.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // libuv: Debian's libuv1-dev ships libuv.pc (1.44.2 on Debian 12).
        .systemLibrary(name: "CUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        // nghttp2 1.52 (Debian 12): the ssize_t API (mem_recv / mem_send); imported only by HTTP2/NGHTTP2Session.swift.
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // OpenSSL 3 (libssl-dev): TLS on memory BIOs; imported only under Sources/FastPerf/TLS/.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "FastPerf",
            dependencies: ["CUV", "CNGHTTP2", "CSQLite3", "COpenSSL", .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        .target(
            name: "FastPerfCommandLine",
            dependencies: ["FastPerf", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "FastPerfCLI", dependencies: ["FastPerfCommandLine"]),
        .testTarget(name: "FastPerfTests", dependencies: ["FastPerf"]),
    ]
)
