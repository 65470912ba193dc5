@testable import LoadGenerator
import XCTest

/// What `Bench.run` refuses before it connects anywhere, with a message naming the option.
final class BenchSettingsTests: XCTestCase {
    func testRefusesNonLoopbackServersAndBadSettings() async throws {
        for settings in [BenchSettings(servers: ["http://10.0.0.1:8080"]), BenchSettings(servers: []),
                         BenchSettings(servers: ["http://127.0.0.1:8080"], clients: 0),
                         BenchSettings(servers: ["http://localhost:8080"], durationSeconds: 0)] {
            do {
                _ = try await Bench.run(settings)
                XCTFail("expected a refusal for \(settings.servers)")
            } catch is BenchError {}
        }
    }

    func testRateMustBePositiveFiniteAndAtMostTheLimit() {
        for bad in [0, -1, .nan, .infinity, BenchSettings.ratePerSecondMax + 1] {
            let settings = BenchSettings(servers: ["http://127.0.0.1:8080"], ratePerSecond: bad)
            XCTAssertThrowsError(try settings.validate(), "\(bad)") { error in
                XCTAssertTrue("\(error)".hasPrefix("--rate must be more than 0 and at most 1000000 transitions per second"),
                              "\(error)")
            }
        }
        for good in [nil, 0.5, 1, 5_000, BenchSettings.ratePerSecondMax] as [Double?] {
            XCTAssertNoThrow(try BenchSettings(servers: ["http://127.0.0.1:8080"], ratePerSecond: good).validate(),
                             "\(String(describing: good))")
        }
    }
}
