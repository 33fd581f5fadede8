package consent_test

import (
	"fmt"

	"github.com/courier-operator/courier/internal/consent"
)

func ExampleCheck() {
	source := map[string]string{"courier.dev/share-with-namespaces": "team-*,web"}
	ok, _ := consent.Check(source, "team-a", nil)
	fmt.Println(ok)
	ok, why := consent.Check(nil, "team-a", nil)
	fmt.Println(ok, why)
	// Output:
	// true
	// false the source carries neither the courier.dev/share-with-namespaces nor the courier.dev/share-with-namespace-selector annotation
}
