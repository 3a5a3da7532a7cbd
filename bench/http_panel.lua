-- wrk script for bench/http_panel.py: GETs the compact panel of random persons, signed in.
--   wrk -t T -c C -d 20s --latency -s bench/http_panel.lua http://host:port -- SESSION PERSONS
-- SESSION is a session cookie value, PERSONS the highest person id (ids 1..PERSONS exist).

function init(args)
   cookie = "sessionid=" .. args[1]
   persons = tonumber(args[2])
   math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
   local path = "/panel/person/" .. math.random(1, persons) .. "/"
   return wrk.format("GET", path, { ["Cookie"] = cookie })
end
