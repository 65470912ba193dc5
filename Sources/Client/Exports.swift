// The client's answers carry `JSONValue`s (instance data, error details), so a caller that
// imports Client sees the JSON module too.
@_exported import JSON
