-- wrk script: a GET with the Authorization header given in the environment.
wrk.headers["Authorization"] = os.getenv("WRK_AUTH")
