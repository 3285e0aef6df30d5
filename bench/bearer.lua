-- wrk script: GET with the bearer token from PPE_TOKEN.
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("PPE_TOKEN") or "")
