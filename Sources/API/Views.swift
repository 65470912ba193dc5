import Engine
import Foundation
import Workflow

/// The JSON shapes of the answers (docs/api.md), built as `JSONValue`s.
enum Views {
    static func number(_ value: UInt64) -> JSONValue { .number(Double(value)) }
    static func number(_ value: Int) -> JSONValue { .number(Double(value)) }
    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    static func health(_ info: HealthInfo) -> JSONValue {
        .object(["node": number(info.node), "role": .string(info.role), "leader": info.leader.map(number) ?? .null,
                 "leader_api": optional(info.leaderAPI), "term": number(info.term),
                 "commit_index": number(info.commitIndex), "applied_index": number(info.appliedIndex)])
    }

    static func cluster(_ info: ClusterInfo) -> JSONValue {
        let members: [JSONValue] = info.members.sorted { $0.id < $1.id }.map { member in
            .object(["id": number(member.id), "raft": .string(member.raft), "api": .string(member.api),
                     "role": .string(member.isLearner ? "learner" : "voter"),
                     "is_leader": .bool(member.id == info.leader),
                     "match_index": member.matchIndex.map(number) ?? .null])
        }
        return .object(["node": number(info.node), "leader": info.leader.map(number) ?? .null, "term": number(info.term),
                        "commit_index": number(info.commitIndex), "applied_index": number(info.appliedIndex),
                        "members": .array(members)])
    }

    static func instance(_ instance: Instance) -> JSONValue {
        .object(["id": .string(instance.id), "workflow": .string(instance.workflow), "version": number(instance.version),
                 "state": .string(instance.state), "data": .object(instance.data), "revision": number(instance.revision),
                 "final": .bool(instance.isFinal),
                 "created_at": .string(Timestamp.rfc3339(millis: instance.createdAtMillis)),
                 "updated_at": .string(Timestamp.rfc3339(millis: instance.updatedAtMillis))])
    }

    static func started(_ started: InstanceStarted) -> JSONValue {
        .object(["id": .string(started.id), "workflow": .string(started.workflow), "version": number(started.version),
                 "state": .string(started.state), "index": number(started.index)])
    }

    static func transitioned(_ moved: Transitioned) -> JSONValue {
        .object(["id": .string(moved.id), "transition": .string(moved.transition), "from": .string(moved.from),
                 "to": .string(moved.to), "state": .string(moved.state), "revision": number(moved.revision),
                 "index": number(moved.index)])
    }

    static func history(id: String, _ history: InstanceHistory) -> JSONValue {
        let entries: [JSONValue] = history.entries.map { entry in
            .object(["type": .string(entry.kind.rawValue), "index": number(entry.index),
                     "request_id": optional(entry.requestID), "from": optional(entry.from), "to": .string(entry.to),
                     "transition": optional(entry.transition), "revision": number(entry.revision),
                     "at": .string(Timestamp.rfc3339(millis: entry.timeMillis))])
        }
        return .object(["id": .string(id), "entries": .array(entries), "dropped": number(history.droppedCount)])
    }

    static func registered(_ registered: WorkflowRegistered) -> JSONValue {
        .object(["name": .string(registered.name), "version": number(registered.version), "hash": .string(registered.hash),
                 "created": .bool(registered.created), "index": number(registered.index)])
    }

    /// A workflow with its latest definition's outline and every version; `full` adds the
    /// whole latest definition (hooks, timeouts, triggers) as `definition`.
    static func workflow(_ summary: WorkflowSummary, full: Bool) -> JSONValue {
        let latest = summary.latest
        let definition = latest.definition
        let states: [JSONValue] = definition.states.map {
            .object(["name": .string($0.name), "final": .bool($0.isFinal)])
        }
        let transitions: [JSONValue] = definition.transitions.map { transition in
            let from: [JSONValue] = switch transition.from {
            case .anyNonFinal: [.string("*")]
            case .states(let names): names.map(JSONValue.string)
            }
            return .object(["name": .string(transition.name), "from": .array(from), "to": .string(transition.to)])
        }
        let versions: [JSONValue] = summary.versions.map { version in
            .object(["version": number(version.version), "hash": .string(version.hash),
                     "index": number(version.registeredIndex),
                     "registered_at": .string(Timestamp.rfc3339(millis: version.registeredAtMillis))])
        }
        var object: [String: JSONValue] = [
            "name": .string(summary.name), "description": .string(definition.description),
            "version": number(latest.version), "hash": .string(latest.hash), "initial": .string(definition.initial),
            "states": .array(states), "transitions": .array(transitions), "versions": .array(versions),
        ]
        if full, let encoded = try? JSONEncoder().encode(definition), let value = try? JSONBody.parse(Array(encoded)) {
            object["definition"] = value
        }
        return .object(object)
    }

    static func diagnostic(_ diagnostic: Diagnostic) -> JSONValue {
        .object(["file": .string(diagnostic.file), "line": number(diagnostic.line), "column": number(diagnostic.column),
                 "severity": .string(diagnostic.severity.rawValue), "message": .string(diagnostic.message)])
    }
}
