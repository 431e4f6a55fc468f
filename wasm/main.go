// Command wasm is the dashboard's browser build: GOOS=js GOARCH=wasm go
// build -o build/web/app.wasm ./wasm (make wasm).
package main

import (
	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash/app"
)

func main() {
	if goapp.IsClient {
		yieldToBrowser()
	}
	app.Register()
	goapp.RunWhenOnBrowser()
}

// yieldToBrowser lets the browser run what waits (input, a frame) between
// the Go program's start (the runtime's and every package's initialisation)
// and the app's first render: two tasks instead of one of 100–500 ms, which
// would delay the visitor's input on the prerendered page meanwhile.
func yieldToBrowser() {
	done := make(chan struct{})
	var f goapp.Func
	f = goapp.FuncOf(func(goapp.Value, []goapp.Value) any {
		f.Release()
		close(done)
		return nil
	})
	goapp.Window().Call("setTimeout", f, 0)
	<-done
}
