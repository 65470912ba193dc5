import Foundation
import XCTest

/// Cron triggers on three real processes while the leader is killed with SIGKILL three times.
/// Afterwards every one-second slot from the first to the last fired exactly once:
///
/// - the `start` trigger left one instance per slot (`crontest.every-second.<slot>`), the first
///   one interval after the workflow's registration, with no slot missing;
/// - the `transition` trigger moved the long-lived instance (a self-loop) once per slot, with
///   no slot missing and none twice (its history names each slot in `cause`).
///
/// Slots that fall while no node leads are fired late by the next leader (well within the
/// 10 s misfire grace), so the check covers the hand-over between schedulers.
final class CronProcessTests: XCTestCase {
    static let workflow = "crontest"
    static let startTrigger = "every-second"
    static let tickTrigger = "tick"
    static let looper = "looper"
    static let intervalMillis: Int64 = 1_000

    static let yaml = """
        workflow: crontest
        description: Cron slots across leader kills (CronProcessTests)
        initial: created
        states:
          created: {}
          looping: {}
        transitions:
          enter: { from: created, to: looping }
          tick:  { from: looping, to: looping }
        triggers:
          - name: every-second
            cron: "@every 1s"
            start: {}
            concurrency: allow
            misfire: all
            max_catchup: 1000
          - name: tick
            cron: "@every 1s"
            transition: tick
            where: { state: looping }
            misfire: all
            max_catchup: 1000

        """

    struct Kill {
        let node: Int
        let newLeader: Int
        let killedAtMillis: Int64
        /// From the SIGKILL to every surviving node agreeing on a new leader.
        let leaderlessMillis: Int64
    }

    func testEverySlotFiresExactlyOnceAcrossLeaderKills() async throws {
        let began = Date()
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.addWorkflow(file: "crontest.yaml", Self.yaml)
        try cluster.startAll()
        let first = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: first, name: Self.workflow)

        // The anchor: slots are registration + k·1s.
        let (status, info) = try await cluster.requestUntilAvailable("GET", first, "/v1/workflows/\(Self.workflow)")
        XCTAssertEqual(status, 200, "\(info)")
        let versions = info["versions"] as? [[String: Any]] ?? []
        XCTAssertEqual(versions.count, 1, "\(info)")
        let anchor = try XCTUnwrap((versions.first?["registered_at"] as? String).flatMap(Self.millis(rfc3339:)),
                                   "registered_at in \(info)")

        // The long-lived instance, moved by the transition trigger from when it enters `looping`.
        let (started, startBody) = try await cluster.requestUntilAvailable(
            "POST", first, "/v1/instances", ["workflow": Self.workflow, "id": Self.looper, "request_id": "start-looper"])
        XCTAssertEqual(started, 201, "\(startBody)")
        let (entered, enterBody) = try await cluster.requestUntilAvailable(
            "POST", first, "/v1/instances/\(Self.looper)/transitions", ["transition": "enter", "request_id": "enter-looper"])
        XCTAssertEqual(entered, 200, "\(enterBody)")

        // The nemesis: three SIGKILLs of the leader, slots firing in between. Each kill lands
        // 150 ms before a slot, so that slot falls in the election that follows (an election
        // timeout is 300–600 ms with --tick-ms 30) and the next leader has to fire it.
        try await Task.sleep(for: .milliseconds(2_000))
        var kills: [Kill] = []
        for _ in 0..<3 {
            let leader = try await cluster.waitForLeader(timeout: 15)
            var killAt = anchor + ((Self.nowMillis - anchor) / Self.intervalMillis + 1) * Self.intervalMillis - 150
            if killAt < Self.nowMillis + 50 { killAt += Self.intervalMillis }
            try await Task.sleep(for: .milliseconds(killAt - Self.nowMillis))
            let killedAt = Self.nowMillis
            cluster.kill9(leader)
            let next = try await cluster.waitForLeader(among: cluster.running, timeout: 15)
            kills.append(Kill(node: leader, newLeader: next, killedAtMillis: killedAt, leaderlessMillis: Self.nowMillis - killedAt))
            try cluster.start(leader)
            try await Task.sleep(for: .milliseconds(2_000))
        }

        // Caught up: both triggers fired every slot through now − 2 s.
        let leader = try await cluster.waitForLeader(timeout: 15)
        var starts: [String: [String: Any]] = [:]
        var history: [[String: Any]] = []
        let caughtUpBy = Date().addingTimeInterval(15)
        var caughtUp = false
        while Date() < caughtUpBy {
            let target = Self.nowMillis - 2_000
            starts = try await Self.startedInstances(cluster, on: leader)
            history = try await Self.history(cluster, on: leader)
            let newestStart = starts.keys.compactMap { Self.slot(ofInstance: $0) }.max() ?? .min
            let newestTick = history.compactMap { Self.slot(ofCause: $0["cause"] as? String, trigger: Self.tickTrigger) }.max() ?? .min
            if newestStart >= target && newestTick >= target {
                caughtUp = true
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTAssertTrue(caughtUp, "leader \(leader) did not fire the slots through now − 2 s within 15 s\n\(Self.evidence(cluster))")

        // The start trigger: one instance per slot, from the first slot after registration on.
        var startSlots: [Int64] = []
        var maxLag: Int64 = 0
        for (id, instance) in starts {
            guard let slot = Self.slot(ofInstance: id) else {
                XCTFail("instance \(id) does not carry a slot time in its id")
                continue
            }
            startSlots.append(slot)
            if let created = (instance["created_at"] as? String).flatMap(Self.millis(rfc3339:)) { maxLag = max(maxLag, created - slot) }
        }
        startSlots.sort()
        let startProblems = Self.problems(startSlots, anchor: anchor, expectedFirst: anchor + Self.intervalMillis)
        XCTAssertTrue(startProblems.isEmpty,
                      "start trigger '\(Self.startTrigger)': \(startProblems.joined(separator: "; "))\n\(Self.evidence(cluster))")

        // The start entries name their slot as their cause.
        for id in starts.keys.sorted().prefix(3) {
            let (_, body) = try await cluster.request("GET", leader, "/v1/instances/\(id)/history")
            let cause = (body["entries"] as? [[String: Any]])?.first?["cause"] as? String
            XCTAssertEqual(Self.slot(ofCause: cause, trigger: Self.startTrigger), Self.slot(ofInstance: id), "\(id): \(body)")
        }

        // The transition trigger: one history entry per slot from the first slot after the
        // instance entered `looping`.
        let enteredAt = history.first { $0["transition"] as? String == "enter" }.flatMap { ($0["at"] as? String).flatMap(Self.millis(rfc3339:)) }
        let enteredMillis = try XCTUnwrap(enteredAt, "the looper's history has its 'enter' entry: \(history)")
        var tickSlots: [Int64] = []
        for entry in history where (entry["cause"] as? String)?.hasPrefix("cron ") == true {
            guard let slot = Self.slot(ofCause: entry["cause"] as? String, trigger: Self.tickTrigger) else {
                XCTFail("unexpected cron cause in \(entry)")
                continue
            }
            XCTAssertEqual(entry["transition"] as? String, "tick", "\(entry)")
            tickSlots.append(slot)
            if let at = (entry["at"] as? String).flatMap(Self.millis(rfc3339:)) { maxLag = max(maxLag, at - slot) }
        }
        XCTAssertEqual(tickSlots, tickSlots.sorted(), "the looper's cron entries are in slot order")
        // The first slot after the entry's time; a slot equal to it may come either side of it.
        var firstTick = anchor + ((enteredMillis - anchor) / Self.intervalMillis + 1) * Self.intervalMillis
        if (enteredMillis - anchor) % Self.intervalMillis == 0 && tickSlots.first == enteredMillis { firstTick = enteredMillis }
        let tickProblems = Self.problems(tickSlots.sorted(), anchor: anchor, expectedFirst: firstTick)
        XCTAssertTrue(tickProblems.isEmpty,
                      "transition trigger '\(Self.tickTrigger)' on \(Self.looper): \(tickProblems.joined(separator: "; "))\n\(Self.evidence(cluster))")

        // Slots due while no node led: the next leader had to fire them (checked above with the rest).
        var leaderless: [Int64] = []
        for kill in kills {
            var slot = anchor + ((kill.killedAtMillis - anchor) / Self.intervalMillis + 1) * Self.intervalMillis
            while slot < kill.killedAtMillis + kill.leaderlessMillis {
                leaderless.append(slot)
                slot += Self.intervalMillis
            }
        }
        let gaps = zip(startSlots, startSlots.dropFirst()).map { $1 - $0 } + zip(tickSlots, tickSlots.dropFirst()).map { $1 - $0 }
        let killText = kills.map { "node \($0.node)→\($0.newLeader), \($0.leaderlessMillis) ms leaderless" }.joined(separator: "; ")
        print("cron across leader kills: \(startSlots.count) start slots (\(Self.stamp(startSlots.first)) … \(Self.stamp(startSlots.last))), "
              + "\(tickSlots.count) tick slots, \(kills.count) kills [\(killText)], \(leaderless.count) slots in leaderless windows, "
              + "max gap between slots \(gaps.max() ?? 0) ms, max fire lag \(maxLag) ms, "
              + "\(String(format: "%.1f", Date().timeIntervalSince(began))) s")
        XCTAssertEqual(kills.count, 3)
        XCTAssertGreaterThan(startSlots.count, 8, "the start trigger fired through the kills")
        XCTAssertFalse(leaderless.isEmpty, "no slot fell inside a leaderless window (kills: \(killText)); the hand-over went untested")
    }

    /// For failure messages: each node's scheduler, leadership and error lines, then its log's tail.
    static func evidence(_ cluster: ProcessCluster) -> String {
        let relevant = ["scheduler", "cron", "leader services", "role changed", "error", "warning"]
        let lines = cluster.nodes.keys.sorted().map { id in
            let matching = cluster.log(id).split(separator: "\n").filter { line in relevant.contains { line.contains($0) } }
            return "--- node \(id): scheduler and leadership lines ---\n" + matching.suffix(30).joined(separator: "\n")
        }
        return lines.joined(separator: "\n") + "\n" + cluster.logTails(lines: 15)
    }

    // MARK: Reading the cluster

    /// Every instance the start trigger started, by id, paging through the list.
    static func startedInstances(_ cluster: ProcessCluster, on node: Int) async throws -> [String: [String: Any]] {
        var found: [String: [String: Any]] = [:]
        var cursor: String?
        repeat {
            var path = "/v1/instances?workflow=\(workflow)&limit=200"
            if let cursor { path += "&cursor=\(cursor)" }
            let (status, body) = try await cluster.requestUntilAvailable("GET", node, path)
            XCTAssertEqual(status, 200, "\(path): \(body)")
            for instance in body["instances"] as? [[String: Any]] ?? [] {
                if let id = instance["id"] as? String, id != looper {
                    XCTAssertNil(found[id], "instance \(id) listed twice")
                    found[id] = instance
                }
            }
            cursor = body["next_cursor"] as? String
        } while cursor != nil
        return found
    }

    static func history(_ cluster: ProcessCluster, on node: Int) async throws -> [[String: Any]] {
        let (status, body) = try await cluster.requestUntilAvailable("GET", node, "/v1/instances/\(looper)/history")
        XCTAssertEqual(status, 200, "\(body)")
        XCTAssertEqual(body["dropped"] as? Int, 0, "the looper's history is whole")
        return body["entries"] as? [[String: Any]] ?? []
    }

    // MARK: Slots

    /// What is wrong with `slots` (sorted) as the consecutive slots `expectedFirst`, +1 s, …:
    /// duplicates, slots off the anchor's grid, a late first slot, and every missing slot.
    static func problems(_ slots: [Int64], anchor: Int64, expectedFirst: Int64) -> [String] {
        guard let first = slots.first, let last = slots.last else { return ["no slot fired"] }
        var problems: [String] = []
        var counts: [Int64: Int] = [:]
        for slot in slots { counts[slot, default: 0] += 1 }
        let duplicated = counts.filter { $0.value > 1 }.keys.sorted()
        if !duplicated.isEmpty {
            problems.append("fired more than once: " + duplicated.map { "\(stamp($0)) ×\(counts[$0]!)" }.joined(separator: ", "))
        }
        let offGrid = counts.keys.filter { ($0 - anchor) % intervalMillis != 0 }.sorted()
        if !offGrid.isEmpty { problems.append("not anchor + k·1s (anchor \(stamp(anchor))): " + offGrid.map(stamp).joined(separator: ", ")) }
        if first != expectedFirst { problems.append("first slot \(stamp(first)), expected \(stamp(expectedFirst))") }
        var missing: [Int64] = []
        var slot = min(first, expectedFirst)
        while slot <= last {
            if counts[slot] == nil { missing.append(slot) }
            slot += intervalMillis
        }
        if !missing.isEmpty { problems.append("missing \(missing.count): " + missing.map(stamp).joined(separator: ", ")) }
        return problems
    }

    /// The slot in a start trigger's instance id, `crontest.every-second.20261202T030000.123Z`.
    static func slot(ofInstance id: String) -> Int64? {
        let prefix = "\(workflow).\(startTrigger)."
        guard id.hasPrefix(prefix) else { return nil }
        return millis(compact: String(id.dropFirst(prefix.count)))
    }

    /// The slot in a history cause, `cron tick 2026-12-02T03:00:00.123Z`.
    static func slot(ofCause cause: String?, trigger: String) -> Int64? {
        guard let cause, cause.hasPrefix("cron \(trigger) ") else { return nil }
        return millis(rfc3339: String(cause.dropFirst("cron \(trigger) ".count)))
    }

    /// `20261202T030000Z` or `20261202T030000.123Z` in ms since the epoch.
    static func millis(compact text: String) -> Int64? {
        let chars = Array(text)
        guard chars.count >= 16, chars[8] == "T", chars.last == "Z" else { return nil }
        let digits = String(chars[0..<8]) + String(chars[9..<15])
        var fraction = "000"
        if chars.count == 20, chars[15] == "." { fraction = String(chars[16..<19]) } else if chars.count != 16 { return nil }
        let d = Array(digits)
        return millis(year: String(d[0..<4]), month: String(d[4..<6]), day: String(d[6..<8]), hour: String(d[8..<10]),
                      minute: String(d[10..<12]), second: String(d[12..<14]), milli: fraction)
    }

    /// `2026-12-02T03:00:00.123Z` (as the server writes times) in ms since the epoch.
    static func millis(rfc3339 text: String) -> Int64? {
        let c = Array(text)
        guard c.count == 24, c[4] == "-", c[7] == "-", c[10] == "T", c[13] == ":", c[16] == ":", c[19] == ".", c[23] == "Z" else { return nil }
        return millis(year: String(c[0..<4]), month: String(c[5..<7]), day: String(c[8..<10]), hour: String(c[11..<13]),
                      minute: String(c[14..<16]), second: String(c[17..<19]), milli: String(c[20..<23]))
    }

    static func millis(year: String, month: String, day: String, hour: String, minute: String, second: String, milli: String) -> Int64? {
        guard let y = Int64(year), let m = Int64(month), let d = Int64(day), let h = Int64(hour), let mi = Int64(minute),
              let s = Int64(second), let ms = Int64(milli), (1...12).contains(m), (1...31).contains(d) else { return nil }
        // Days since 1970-01-01 from a civil date (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yearOfEra = yy - era * 400
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return ((days * 24 + h) * 60 + mi) * 60_000 + s * 1_000 + ms
    }

    static var nowMillis: Int64 { Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)) }

    static func stamp(_ millis: Int64?) -> String {
        guard let millis else { return "-" }
        let date = Date(timeIntervalSince1970: Double(millis) / 1_000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
