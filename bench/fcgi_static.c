/* fcgi_static.c - the baseline: a minimal FastCGI responder that returns the
 * bytes of one file from memory, to compare carebox's pages against. */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>

/* usage: fcgi_static FILE (the listening socket is fd 0, as for carebox). */
int main(int argc, char **argv)
{
	FCGX_Request req;
	static char body[1 << 20];
	size_t len;
	FILE *f;

	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
		fputs("usage: fcgi_static FILE\n", stderr);
		return 2;
	}
	len = fread(body, 1, sizeof(body), f);
	fclose(f);
	FCGX_Init();
	FCGX_InitRequest(&req, 0, 0);
	while (FCGX_Accept_r(&req) == 0) {
		FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
			     "Content-Length: %d\r\nCache-Control: no-store\r\n\r\n", (int)len);
		FCGX_PutStr(body, (int)len, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
