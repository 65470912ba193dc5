import APIModels
import JSON
import XCTest

/// Every answer model: the server's fast coding and the client's Codable agree, and absent
/// values are written as the API has always written them (`null`, or the key left out).
final class ResponseModelTests: XCTestCase {
    func testNodeHealthWritesAnUnknownLeaderAsNull() throws {
        let known = NodeHealth(node: 1, role: "leader", leader: 1, leaderAPI: "127.0.0.1:8080", term: 7, commitIndex: 42,
                               appliedIndex: 41)
        try assertCodingsAgree(known)
        let alone = NodeHealth(node: 2, role: "follower", leader: nil, leaderAPI: nil, term: 7, commitIndex: 0, appliedIndex: 0)
        XCTAssertEqual(try assertCodingsAgree(alone),
                       #"{"applied_index":0,"commit_index":0,"leader":null,"leader_api":null,"node":2,"role":"follower","term":7}"#)
    }

    func testClusterMemberWritesAnUnknownMatchIndexAndLivenessAsNull() throws {
        try assertCodingsAgree(ClusterMember(id: 1, raft: "127.0.0.1:7080", api: "127.0.0.1:8080", role: "voter",
                                             isLeader: true, matchIndex: 9_007_199_254_740_991, live: true))
        XCTAssertEqual(try assertCodingsAgree(ClusterMember(id: 4, raft: "r:1", api: "a:2", role: "learner", isLeader: false,
                                                            matchIndex: nil)),
                       #"{"api":"a:2","id":4,"is_leader":false,"live":null,"match_index":null,"raft":"r:1","role":"learner"}"#)
        XCTAssertEqual(try assertCodingsAgree(ClusterMember(id: 4, raft: "r:1", api: "a:2", role: "learner", isLeader: false,
                                                            matchIndex: 0, live: false)),
                       #"{"api":"a:2","id":4,"is_leader":false,"live":false,"match_index":0,"raft":"r:1","role":"learner"}"#)
    }

    func testClusterMemberFromAServerWithoutLivenessDecodes() throws {
        let member = try JSONDecoder().decode(ClusterMember.self, from: Data(
            #"{"api":"a:2","id":4,"is_leader":false,"match_index":3,"raft":"r:1","role":"learner"}"#.utf8))
        XCTAssertEqual(member, ClusterMember(id: 4, raft: "r:1", api: "a:2", role: "learner", isLeader: false, matchIndex: 3))
    }

    func testClusterStatusWritesAnUnknownLeaderAsNull() throws {
        let member = ClusterMember(id: 1, raft: "r:1", api: "a:1", role: "voter", isLeader: false, matchIndex: nil)
        try assertCodingsAgree(ClusterStatus(node: 1, leader: 1, term: 3, commitIndex: 5, appliedIndex: 5, members: [member]))
        XCTAssertEqual(try assertCodingsAgree(ClusterStatus(node: 1, leader: nil, term: 3, commitIndex: 5, appliedIndex: 4,
                                                            members: [])),
                       #"{"applied_index":4,"commit_index":5,"leader":null,"members":[],"node":1,"term":3}"#)
    }

    func testWorkflowVersionInfoCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(WorkflowVersionInfo(version: 2, hash: "ab", index: 7,
                                                                  registeredAt: "2027-01-15T08:00:00.123Z")),
                       #"{"hash":"ab","index":7,"registered_at":"2027-01-15T08:00:00.123Z","version":2}"#)
    }

    func testWorkflowStateInfoCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(WorkflowStateInfo(name: "done", final: true)), #"{"final":true,"name":"done"}"#)
    }

    func testWorkflowTransitionInfoCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(WorkflowTransitionInfo(name: "cancel", from: ["*"], to: "cancelled")),
                       #"{"from":["*"],"name":"cancel","to":"cancelled"}"#)
    }

    func testWorkflowInfoLeavesOutAnAbsentDefinition() throws {
        let outline = WorkflowInfo(name: "cookbook", description: "a ring", version: 1, hash: "ff", initial: "first",
                                   states: [WorkflowStateInfo(name: "first", final: false)],
                                   transitions: [WorkflowTransitionInfo(name: "first", from: ["first"], to: "first")],
                                   versions: [WorkflowVersionInfo(version: 1, hash: "ff", index: 1, registeredAt: "t")])
        let text = try assertCodingsAgree(outline)
        XCTAssertFalse(text.contains("definition"), text)
        var full = outline
        full.definition = ["name": "cookbook", "states": [["name": "first", "isFinal": false]], "data": [:]]
        XCTAssertTrue(try assertCodingsAgree(full).contains(#""definition":{"data":{},"name":"cookbook""#))
    }

    func testWorkflowListCodingsAgree() throws {
        let info = WorkflowInfo(name: "w", description: "", version: 3, hash: "h", initial: "a", states: [], transitions: [],
                                versions: [])
        XCTAssertEqual(try assertCodingsAgree(WorkflowList(workflows: [info])),
                       #"{"workflows":[{"description":"","hash":"h","initial":"a","name":"w","states":[],"transitions":[],"#
                           + #""version":3,"versions":[]}]}"#)
    }

    func testWorkflowAppliedCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(WorkflowApplied(name: "order", version: 2, hash: "h", created: false, index: 57)),
                       #"{"created":false,"hash":"h","index":57,"name":"order","version":2}"#)
    }

    func testInstanceStartedCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(InstanceStarted(id: "demo", workflow: "cookbook", version: 1, state: "first",
                                                              index: 2)),
                       #"{"id":"demo","index":2,"state":"first","version":1,"workflow":"cookbook"}"#)
    }

    func testTransitionAppliedCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(TransitionApplied(id: "o-1", transition: "pay", from: "created", to: "paid",
                                                                state: "paid", revision: 2, index: 4)),
                       #"{"from":"created","id":"o-1","index":4,"revision":2,"state":"paid","to":"paid","transition":"pay"}"#)
    }

    func testInstanceInfoCarriesItsDataAsIs() throws {
        let info = InstanceInfo(id: "o-1", workflow: "order", version: 1, state: "paid",
                                data: ["n": 1.5, "s": "a/b \"q\"", "list": [1, nil, true], "nested": ["k": [:]]],
                                revision: 2, final: false, createdAt: "2027-01-15T08:00:00.123Z",
                                updatedAt: "2027-01-15T08:00:01.000Z")
        XCTAssertEqual(try assertCodingsAgree(info),
                       #"{"created_at":"2027-01-15T08:00:00.123Z","data":{"list":[1,null,true],"n":1.5,"nested":{"k":{}},"#
                           + #""s":"a/b \"q\""},"final":false,"id":"o-1","purge_at":null,"revision":2,"state":"paid","#
                           + #""updated_at":"2027-01-15T08:00:01.000Z","version":1,"workflow":"order"}"#)
        var finished = info
        finished.final = true
        finished.purgeAt = "2027-01-22T08:00:01.000Z"
        XCTAssertTrue(try assertCodingsAgree(finished).contains(#""purge_at":"2027-01-22T08:00:01.000Z""#))
    }

    func testInstanceListWritesTheLastPagesCursorAsNull() throws {
        let info = InstanceInfo(id: "a", workflow: "w", version: 1, state: "s", data: [:], revision: 1, final: true,
                                createdAt: "t", updatedAt: "t")
        XCTAssertTrue(try assertCodingsAgree(InstanceList(instances: [info], nextCursor: "3")).hasSuffix(#""next_cursor":"3"}"#))
        XCTAssertEqual(try assertCodingsAgree(InstanceList(instances: [], nextCursor: nil)),
                       #"{"instances":[],"next_cursor":null}"#)
    }

    func testHistoryRecordWritesWhatDoesNotApplyAsNull() throws {
        let start = HistoryRecord(type: "start", index: 3, requestID: nil, from: nil, to: "created", transition: nil,
                                  revision: 1, at: "t")
        XCTAssertEqual(try assertCodingsAgree(start),
                       #"{"at":"t","from":null,"index":3,"request_id":null,"revision":1,"to":"created","transition":null,"type":"start"}"#)
        try assertCodingsAgree(HistoryRecord(type: "transition", index: 4, requestID: "q-2", from: "created", to: "paid",
                                             transition: "pay", revision: 2, at: "t"))
        try assertCodingsAgree(HistoryRecord(type: "hook_run", index: 5, requestID: nil, from: nil, to: nil, transition: nil,
                                             revision: nil, at: "t"))
    }

    func testInstanceHistoryCodingsAgree() throws {
        let entry = HistoryRecord(type: "start", index: 3, requestID: "q-1", from: nil, to: "first", transition: nil,
                                  revision: 1, at: "t")
        XCTAssertTrue(try assertCodingsAgree(InstanceHistory(id: "demo", entries: [entry], dropped: 12))
            .hasPrefix(#"{"dropped":12,"entries":[{"#))
    }

    func testDiagnosticInfoCodingsAgree() throws {
        XCTAssertEqual(try assertCodingsAgree(DiagnosticInfo(file: "bad.yaml", line: 1, column: 1, severity: "error",
                                                             message: "missing 'initial'")),
                       #"{"column":1,"file":"bad.yaml","line":1,"message":"missing 'initial'","severity":"error"}"#)
    }

    func testErrorEnvelopeWritesDetailsEvenWhenEmpty() throws {
        XCTAssertEqual(try assertCodingsAgree(ErrorEnvelope(code: "no_leader", message: "retry shortly", details: [:])),
                       #"{"error":{"code":"no_leader","details":{},"message":"retry shortly"}}"#)
        try assertCodingsAgree(ErrorEnvelope(code: "transition_not_allowed", message: "m",
                                             details: ["allowed": ["cancel"], "state": "paid"]))
        // A body without details (not one this server writes) still decodes.
        let bare = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(#"{"error":{"code":"x","message":"y"}}"#.utf8))
        XCTAssertEqual(bare, ErrorEnvelope(code: "x", message: "y", details: nil))
        try assertCodingsAgree(bare)
    }
}
