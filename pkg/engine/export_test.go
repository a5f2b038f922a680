package engine

// ContainsNickname exposes containsNickname to the package's external tests.
var ContainsNickname = containsNickname
