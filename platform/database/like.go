package database

import "strings"

// likeEscaper makes LIKE's wildcards and its escape character literal (ESCAPE '\').
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// EscapeLike makes s match itself literally in a LIKE pattern written with ESCAPE '\'
// (a "name contains" filter: "%" + EscapeLike(q) + "%").
func EscapeLike(s string) string { return likeEscaper.Replace(s) }
