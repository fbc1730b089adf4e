// swift-tools-version:6.1
import PackageDescription

let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "trellis",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trellis-api", targets: ["trellis-api"]),
        .executable(name: "trellis-worker", targets: ["trellis-worker"]),
        .executable(name: "trellis-scheduler", targets: ["trellis-scheduler"]),
        .executable(name: "trellis", targets: ["trellis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        // gzip for the answers an API process keeps (zlib, by Hummingbird's author).
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.0"),
        // OTLP over HTTP only: the gRPC exporter would add grpc-swift to every build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // Pure: values and rules only. No NIO, no database, no clock reads.
        .target(name: "TrellisDomain", swiftSettings: swift6),
        // Generated plans for the property tests and `trellis bench`: not part of the domain.
        .target(name: "TrellisFixtures", dependencies: ["TrellisDomain"], swiftSettings: swift6),
        .target(
            name: "TrellisQueue",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swift6
        ),
        .target(
            name: "TrellisStore",
            dependencies: [
                "TrellisDomain", "CLibPQ",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swift6
        ),
        // The use cases (edit a plan, read a timeline…): what the JSON API, the web pages and the jobs call.
        .target(
            name: "TrellisApplication",
            dependencies: [
                "TrellisDomain", "TrellisStore", "TrellisQueue",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swift6
        ),
        .target(
            name: "TrellisJobs",
            dependencies: [
                "TrellisDomain", "TrellisStore", "TrellisQueue", "TrellisApplication",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swift6
        ),
        .target(
            name: "TrellisHTTP",
            dependencies: [
                "TrellisDomain", "TrellisStore", "TrellisQueue", "TrellisApplication", "TrellisJobs",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swift6
        ),
        // One bootstrap shared by every executable: configuration, logging, the database client.
        .target(
            name: "TrellisBootstrap",
            dependencies: [
                "TrellisStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: swift6
        ),
        .executableTarget(
            name: "trellis-api",
            dependencies: ["TrellisBootstrap", "TrellisHTTP"],
            swiftSettings: swift6
        ),
        .executableTarget(
            name: "trellis-worker",
            dependencies: [
                "TrellisBootstrap", "TrellisJobs", "TrellisHTTP",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swift6
        ),
        .executableTarget(
            name: "trellis-scheduler",
            dependencies: [
                "TrellisBootstrap", "TrellisJobs",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swift6
        ),
        .executableTarget(
            name: "trellis",
            dependencies: [
                "TrellisBootstrap", "TrellisHTTP", "TrellisJobs", "TrellisFixtures",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swift6
        ),
        // Test support: a pool of real PostgreSQL databases, each suite on a fresh copy of a migrated template.
        // Test scaffolding as a process: the worker with a probe job, the scheduler on a clock file (end-to-end tests).
        .executableTarget(
            name: "trellis-testbed",
            dependencies: [
                "TrellisBootstrap", "TrellisJobs", "TrellisQueue", "TrellisStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/Testbed",
            swiftSettings: swift6
        ),
        .target(
            name: "TrellisTestSupport",
            dependencies: [
                "TrellisStore", "TrellisBootstrap", "TrellisQueue",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swift6
        ),
        .testTarget(name: "TrellisDomainTests", dependencies: ["TrellisDomain", "TrellisFixtures"], swiftSettings: swift6),
        // Exports read back by the real programs' readers (MPXJ, icalendar, csv) and a headless Chromium.
        .testTarget(name: "TrellisExportTests", dependencies: ["TrellisDomain", "TrellisFixtures"], swiftSettings: swift6),
        .testTarget(
            name: "TrellisStoreTests",
            dependencies: ["TrellisStore", "TrellisTestSupport", "TrellisBootstrap", "TrellisQueue"],
            swiftSettings: swift6
        ),
        .testTarget(
            name: "TrellisQueueTests",
            dependencies: [
                "TrellisQueue", "TrellisJobs", "TrellisTestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swift6
        ),
        .testTarget(
            name: "TrellisJobsTests",
            dependencies: [
                "TrellisApplication", "TrellisJobs", "TrellisHTTP", "TrellisTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swift6
        ),
        // Runs the real executables: a worker killed with SIGKILL mid-run, two schedulers on one database.
        .testTarget(
            name: "TrellisEndToEndTests",
            dependencies: ["TrellisQueue", "TrellisStore", "TrellisTestSupport"],
            swiftSettings: swift6
        ),
        .testTarget(
            name: "TrellisHTTPTests",
            dependencies: [
                "TrellisHTTP", "TrellisJobs", "TrellisQueue", "TrellisTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swift6
        ),
    ]
)
