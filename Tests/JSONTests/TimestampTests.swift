import JSON
import XCTest

/// Engine time (ms since the epoch) as RFC 3339 UTC.
final class TimestampTests: XCTestCase {
    func testTimestampsAreRFC3339UTC() {
        XCTAssertEqual(Timestamp.rfc3339(millis: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: 951_782_400_999), "2000-02-29T00:00:00.999Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: -1), "1969-12-31T23:59:59.999Z")
    }

    func testParsingRFC3339RoundTripsAndHonoursOffsets() {
        for millis: Int64 in [0, 951_782_400_999, -1, 1_800_000_000_123, 253_402_300_799_999] {
            XCTAssertEqual(Timestamp.parseRFC3339(Timestamp.rfc3339(millis: millis)), millis)
        }
        XCTAssertEqual(Timestamp.parseRFC3339("2000-02-29T01:00:00.999+01:00"), 951_782_400_999)
        XCTAssertEqual(Timestamp.parseRFC3339("1999-12-31T22:30:00-01:30"), 946_684_800_000)
        XCTAssertEqual(Timestamp.parseRFC3339("2000-01-01t00:00:00z"), 946_684_800_000)
        XCTAssertEqual(Timestamp.parseRFC3339("2000-01-01T00:00:00.5Z"), 946_684_800_500)
        XCTAssertEqual(Timestamp.parseRFC3339("2000-01-01T00:00:00.123456789Z"), 946_684_800_123)
        XCTAssertEqual(Timestamp.parseRFC3339("2000-01-01T01:00:00 01:00"), 946_684_800_000)   // a form-decoded '+'
    }

    func testParsingRejectsWhatIsNotAnRFC3339DateTime() {
        for text in ["", "2026-12-04", "2026-12-04T16:00:00", "2026-12-04 16:00:00Z", "2026-13-01T00:00:00Z",
                     "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-12-04T24:00:00Z", "2026-12-04T16:60:00Z",
                     "2026-12-04T16:00:60Z", "2026-12-04T16:00:00.Z", "2026-12-04T16:00:00Zjunk", "2026-12-04T16:00:00+0100",
                     "2026-12-04T16:00:00+24:00", "yesterday", "2026-12-04T16:00:00.1x2Z", "+2026-12-04T16:00:00Z"] {
            XCTAssertNil(Timestamp.parseRFC3339(text), text)
        }
    }
}

