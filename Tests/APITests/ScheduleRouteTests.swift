@testable import API
import Engine
import Foundation
import Hummingbird
import JSON
import HummingbirdTesting
import XCTest

/// `GET /v1/triggers` and `GET /v1/timeouts`: what the scheduler will fire next, as a user of
/// `orchestrator cron list` reads it.
final class ScheduleRouteTests: XCTestCase {
    /// A nightly cleanup in Berlin, a start trigger every minute, and a state with a timeout.
    static let scheduled = """
        workflow: nightly
        initial: created
        states:
          created: { timeout: { after: 10m, transition: cancel } }
          paid: {}
          cancelled: { final: true }
        transitions:
          pay: { from: created, to: paid }
          cancel: { from: [created, paid], to: cancelled }
        triggers:
          - name: sweep
            cron: "0 3 * * *"
            timezone: Europe/Berlin
            transition: cancel
            where: { state: created }
          - name: tick
            cron: "@every 1m"
            start: {}
            concurrency: forbid
            misfire: all
            max_catchup: 5
        """

    func testTriggersShowScheduleNextFireAndLastSlot() async throws {
        let fixture = Fixture()
        // The twin stamps commands at 2027-01-15T08:00:00.123Z: the registration anchors both triggers there.
        let registeredAt = fixture.consensus.clock.nowMillis
        try await fixture.test { client in
            try await client.register("nightly", Self.scheduled)
            try await client.register("order", Definitions.order)

            let before = try await client.call(.get, "/v1/triggers")
            XCTAssertEqual(before.status, .ok, before.text)
            let triggers = try XCTUnwrap(before["triggers"]?.arrayValue)
            XCTAssertEqual(triggers.count, 2, "a workflow without triggers adds none: \(before.text)")
            let sweep = try XCTUnwrap(triggers[0].objectValue)
            XCTAssertEqual(sweep["name"]?.stringValue, "sweep")
            XCTAssertEqual(sweep["action"]?.stringValue, "transition")
            XCTAssertEqual(sweep["transition"]?.stringValue, "cancel")
            XCTAssertEqual(sweep["where"]?.stringValue, "created")
            XCTAssertEqual(sweep["timezone"]?.stringValue, "Europe/Berlin")
            XCTAssertEqual(sweep["next_fire_at"]?.stringValue, "2027-01-16T03:00:00+01:00", "in the trigger's zone, with its offset")
            XCTAssertEqual(sweep["last_slot_at"], .null)
            XCTAssertEqual(sweep["anchor_at"]?.stringValue, "2027-01-15T08:00:00.123Z")
            let tick = try XCTUnwrap(triggers[1].objectValue)
            XCTAssertEqual(tick["action"]?.stringValue, "start")
            XCTAssertEqual(tick["transition"], .null)
            XCTAssertEqual(tick["concurrency"]?.stringValue, "forbid")
            XCTAssertEqual(tick["misfire"]?.stringValue, "all")
            XCTAssertEqual(tick["max_catchup"]?.numberValue, 5)
            XCTAssertEqual(tick["next_fire_at"]?.stringValue, "2027-01-15T08:01:00.123+00:00", "@every counts from the registration")
            XCTAssertEqual(tick["fired"]?.numberValue, 0)

            // The leader fires the first minute's slot; three minutes later the list shows it and
            // the next fire after now (not the missed ones in between).
            let slot = registeredAt + 60_000
            fixture.consensus.clock.advance(byMillis: 61_000)
            _ = try await fixture.consensus.propose(
                .cronFire(CronFire(slots: [CronSlot(workflow: "nightly", trigger: "tick", slotMillis: slot)])), fencedOn: nil)
            fixture.consensus.clock.advance(byMillis: 120_000)
            let after = try await client.call(.get, "/v1/triggers?workflow=nightly")
            let fired = try XCTUnwrap(after["triggers"]?.arrayValue?.last?.objectValue)
            XCTAssertEqual(fired["last_slot_at"]?.stringValue, "2027-01-15T08:01:00.123+00:00")
            XCTAssertEqual(fired["fired"]?.numberValue, 1)
            XCTAssertEqual(fired["last_instance"]?.stringValue, "nightly.tick.20270115T080100.123Z")
            XCTAssertEqual(fired["last_fired_index"]?.numberValue, 3)
            XCTAssertEqual(fired["next_fire_at"]?.stringValue, "2027-01-15T08:04:00.123+00:00")

            let unknown = try await client.call(.get, "/v1/triggers?workflow=nope")
            XCTAssertEqual(unknown.status, .notFound, unknown.text)
            let badKey = try await client.call(.get, "/v1/triggers?workflw=nightly")
            XCTAssertEqual(badKey.status, .badRequest)
            XCTAssertEqual(badKey.details["field"]?.stringValue, "workflw")
        }
    }

    func testTimeoutsListArmedTimersDueFirstWithTheTotal() async throws {
        let fixture = Fixture()
        let registeredAt = fixture.consensus.clock.nowMillis
        try await fixture.test { client in
            try await client.register("nightly", Self.scheduled)
            try await client.start("nightly", id: "early")
            fixture.consensus.clock.advance(byMillis: 5_000)
            try await client.start("nightly", id: "late")
            try await client.start("nightly", id: "paid-one")
            let pay = try await client.call(.post, "/v1/instances/paid-one/transitions", #"{"transition":"pay"}"#)
            XCTAssertEqual(pay.status, .ok, pay.text)

            let list = try await client.call(.get, "/v1/timeouts?limit=1")
            XCTAssertEqual(list.status, .ok, list.text)
            XCTAssertEqual(list["total"]?.numberValue, 2, "leaving the state cancelled paid-one's timeout")
            let first = try XCTUnwrap(list["timeouts"]?.arrayValue?.first?.objectValue)
            XCTAssertEqual(first["instance"]?.stringValue, "early")
            XCTAssertEqual(first["state"]?.stringValue, "created")
            XCTAssertEqual(first["transition"]?.stringValue, "cancel")
            XCTAssertEqual(first["revision"]?.numberValue, 1)
            XCTAssertEqual(first["after_ms"]?.numberValue, 600_000)
            XCTAssertEqual(first["due_at"]?.stringValue, Timestamp.rfc3339(millis: registeredAt + 600_000))

            let all = try await client.call(.get, "/v1/timeouts?workflow=nightly")
            XCTAssertEqual(all["timeouts"]?.arrayValue?.compactMap { $0.objectValue?["instance"]?.stringValue }, ["early", "late"])
            let badLimit = try await client.call(.get, "/v1/timeouts?limit=0")
            XCTAssertEqual(badLimit.status, .badRequest)
            XCTAssertEqual(badLimit.details["field"]?.stringValue, "limit")
        }
    }
}
