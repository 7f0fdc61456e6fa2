-- One wrk script for every variant; the harness describes the request in env vars.
--   BENCH_METHOD, BENCH_PATH            request line
--   BENCH_AUTH   none | bearer | cookie | body | login
--   BENCH_COOKIE cookie name (auth=cookie)
--   BENCH_LIST   file with one credential per line (a token, a cookie value,
--                or "email<TAB>password" for auth=login); one line = a fixed request,
--                several lines = a random line per request
local method = os.getenv('BENCH_METHOD') or 'GET'
local path = os.getenv('BENCH_PATH') or '/'
local auth = os.getenv('BENCH_AUTH') or 'none'
local cookie = os.getenv('BENCH_COOKIE') or 'session'
local listFile = os.getenv('BENCH_LIST')

local list = {}
if listFile and listFile ~= '' then
  for line in io.lines(listFile) do
    if line ~= '' then list[#list + 1] = line end
  end
end
local n = #list

-- Lines of one width (tokens) are kept as one string and cut out per request. A table of a
-- million strings makes every garbage collection of wrk's Lua heap walk a million objects: wrk
-- stalls for tens of milliseconds and the stall shows up as server latency (measured: against
-- the same server and Redis, p99 1.9-5.3x higher drawing from 1M tokens than from 1k of them).
local width = n > 1 and #list[1] or 0
for i = 2, n do
  if #list[i] ~= width then width = 0 break end
end
local blob = nil
if width > 0 then
  blob = table.concat(list)
  list = {}
  collectgarbage('collect')
end
local function line (i)
  if blob then return blob:sub((i - 1) * width + 1, i * width) end
  return list[i]
end

local function jsonString (s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

local function build (cred)
  local headers = {}
  local body = nil
  if auth == 'bearer' then
    headers['Authorization'] = 'Bearer ' .. cred
  elseif auth == 'cookie' then
    headers['Cookie'] = cookie .. '=' .. cred
  elseif auth == 'body' then
    headers['Content-Type'] = 'application/json'
    body = '{"token":' .. jsonString(cred) .. '}'
  elseif auth == 'login' then
    local email, password = cred:match('^([^\t]*)\t(.*)$')
    headers['Content-Type'] = 'application/json'
    body = '{"email":' .. jsonString(email) .. ',"password":' .. jsonString(password) .. '}'
  end
  return wrk.format(method, path, headers, body)
end

local fixed = nil

function init (args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  -- built here, not at load time: wrk sets the Host header only after loading the script
  if n <= 1 then fixed = build(line(1) or '') end
end

function request ()
  if fixed then return fixed end
  return build(line(math.random(n)))
end

function done (summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
