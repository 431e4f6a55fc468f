-- wrk script: create a task (POST /api/tasks) with a fixed body.
wrk.method = "POST"
wrk.body = '{"title":"Created by wrk","description":"load test task","priority":"medium","tags":["bench"]}'
wrk.headers["Content-Type"] = "application/json"
