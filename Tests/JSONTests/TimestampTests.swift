import JSON
import XCTest

/// Engine time (ms since the epoch) as RFC 3339 UTC.
final class TimestampTests: XCTestCase {
    func testTimestampsAreRFC3339UTC() {
        XCTAssertEqual(Timestamp.rfc3339(millis: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: 951_782_400_999), "2000-02-29T00:00:00.999Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: -1), "1969-12-31T23:59:59.999Z")
    }
}
