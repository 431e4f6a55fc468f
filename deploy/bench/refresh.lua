-- wrk script: refresh-token rotation as an API client without cookies
-- (X-Auth-Mode: token). Each thread keeps a queue of live refresh tokens,
-- read from the file in RT_FILE (one per line, dealt round the
-- WRK_THREADS threads, which must match wrk's -t); a request spends one and its answer brings the next, so the
-- queue holds one token per connection for the whole run.
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  queue = {}
  local file = os.getenv("RT_FILE") or "build/bench-api/rt.txt"
  local threads = tonumber(os.getenv("WRK_THREADS") or "2")
  local n = 0
  for line in io.lines(file) do
    if n % threads == id then table.insert(queue, line) end
    n = n + 1
  end
  last = queue[1]
end

function request()
  local tok = table.remove(queue, 1) or last
  return wrk.format("POST", "/api/auth/refresh",
    {["Content-Type"] = "application/json", ["X-Auth-Mode"] = "token"},
    '{"refreshToken":"' .. tok .. '"}')
end

function response(status, headers, body)
  local tok = body:match('"refreshToken":"([^"]+)"')
  if tok then
    table.insert(queue, tok)
    last = tok
  end
end
