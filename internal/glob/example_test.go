package glob_test

import (
	"fmt"

	"github.com/courier-operator/courier/internal/glob"
)

func ExampleMatch() {
	fmt.Println(glob.Match("team-*", "team-payments"))
	fmt.Println(glob.Match("team-?", "team-ab"))
	fmt.Println(glob.MatchAny([]string{"web", "api-*"}, "api-v2"))
	// Output:
	// true
	// false
	// true
}
