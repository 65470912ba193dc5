/// Workflow definitions: YAML in, validated immutable model out.
public enum WorkflowNamespace {}
