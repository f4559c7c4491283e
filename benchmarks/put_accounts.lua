-- wrk script: every request creates a new account (PUT on the collection).
local n = 0
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("WRK_AUTH")
request = function()
  n = n + 1
  local body = string.format('{"lastname": "Bench %d-%d", "currency": "CHF"}', math.random(1, 1000000000), n)
  return wrk.format("PUT", nil, nil, body)
end
