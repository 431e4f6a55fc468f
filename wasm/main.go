// Command wasm is the dashboard's browser build: GOOS=js GOARCH=wasm go
// build -o build/web/app.wasm ./wasm (make wasm).
package main

import (
	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash/app"
)

func main() {
	app.Register()
	goapp.RunWhenOnBrowser()
}
